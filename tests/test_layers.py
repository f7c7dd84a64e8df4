"""The folders are the architecture: import-linter's contracts (setup.cfg) hold on the real import graph.

The contracts: sandbox's layers point one way (io <- core <- formats <- tune | app <- cli), the
engine and safe I/O import no Optuna, safetensors, psygnal or Qt, no view, worker or Tune view imports
the window, no module imports its siblings in a circle (counting imports in functions and under
TYPE_CHECKING), only the agent imports the fast learning backend, and the core never imports Qt or
ui/. `make lint` runs the same check.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "6 kept, 0 broken" in out.stdout
