"""RL Sandbox from a checkout: `python main.py` is the installed `rl-sandbox` command (ui/launcher.py)."""

import sys

from ui.launcher import main

if __name__ == "__main__":
    sys.exit(main())
