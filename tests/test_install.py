"""Installed as users install it: a wheel in a fresh venv outside the checkout, run from elsewhere.

An editable install (`make install`) finds everything in the checkout, so it hides files the wheel
forgets (the presets once lay outside the package). Here the wheel is built from a copy of the
sources, installed with `--no-deps --no-index` into a new venv in a temporary folder, and its
console script runs `train` and `screenshot` from another folder with the checkout off `sys.path`.
The new venv sees the test environment's already-installed dependencies through a `.pth` line, so
nothing is downloaded; that line is written after the install, so pip never sees the checkout's
editable `rl-sandbox` while installing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "main.py", "sandbox", "ui", "resources")


def run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                         check=False)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The new venv's folder, with the project's wheel installed into it."""
    tmp = tmp_path_factory.mktemp("install")
    # A copy of the sources: building in the checkout would write build/ and egg-info there,
    # racing other test runs and editors of the same checkout.
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    dist = tmp / "dist"
    run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "-w", dist], cwd=tmp)
    (wheel,) = dist.glob("rl_sandbox-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sandbox/resources/presets/notebook.toml" in names and "ui/launcher.py" in names
    assert "sandbox/resources/lessons/mountaincar.toml" in names
    assert "main.py" not in names  # no top-level `main` module in a user's site-packages

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    # The test environment's pip installs into the new venv (`--python`): no pip bootstrap, no index.
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--quiet", wheel], cwd=tmp)
    # Only now let the new venv see the installed dependencies. A plain path line: the .pth files
    # in that folder (the checkout's editable install among them) are not processed.
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.fixture
def user_env(tmp_path) -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH, nothing of this venv, Qt offscreen."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYTEST", "COV_"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               RL_SANDBOX_DATA_DIR=str(tmp_path / "data" / "rl-sandbox"))
    return env


def test_the_installed_package_comes_from_the_new_venv(installed, tmp_path, user_env):
    code = ("import json, sys, ui.launcher, sandbox, sandbox.core.config as c, ui; "
            "print(json.dumps([sys.path, ui.launcher.__file__, sandbox.__file__, ui.__file__, str(c.PRESETS), "
            "c.preset_names()]))")
    path, *files, presets, names = json.loads(run([installed / "bin" / "python", "-c", code], cwd=tmp_path,
                                                   env=user_env))
    assert all(Path(entry or tmp_path).resolve() != REPO for entry in path), path
    for file in [*files, presets]:
        assert Path(file).is_relative_to(installed), file
        assert not Path(file).is_relative_to(REPO), file
    assert {"notebook", "fast", "nstep", "cartpole"} <= set(names)


def test_the_console_script_trains_and_takes_a_screenshot(installed, tmp_path, user_env):
    script = installed / "bin" / "rl-sandbox"
    assert script.read_text().startswith(f"#!{installed / 'bin' / 'python'}")
    out = run([script, "train", "--preset", "fast", "--episodes", "2", "--eval-episodes", "0"], cwd=tmp_path,
              env=user_env)
    assert "--- 2 episodes" in out
    run([script, "screenshot", "out.png"], cwd=tmp_path, env=user_env)
    png = tmp_path / "out.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
