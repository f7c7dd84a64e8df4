"""Test-wide isolation: Qt offscreen, and QSettings / user data in a throwaway directory."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_home = tempfile.mkdtemp(prefix="rl-sandbox-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")
os.environ["XDG_CACHE_HOME"] = os.path.join(_home, "cache")
os.environ["RL_SANDBOX_DATA_DIR"] = os.path.join(_home, "data", "rl-sandbox")
if "XDG_RUNTIME_DIR" not in os.environ:  # else Qt warns once per process, in whichever test comes first
    os.environ["XDG_RUNTIME_DIR"] = os.path.join(_home, "runtime")
    os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700)
