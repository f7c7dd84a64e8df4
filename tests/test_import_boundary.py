"""The core never imports Qt: checked on the real import graph, in a fresh interpreter."""

import subprocess
import sys


def test_sandbox_imports_no_qt():
    code = ("import sandbox.cli.commands, sandbox.core.trainer, sandbox.core.evaluate, sandbox.core.config, sys;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt5', 'pyqtgraph', 'ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
