"""Package data: the presets (and, later, lessons and icons), found with importlib.resources.

This folder is installed as the `sandbox.resources` package (setup.cfg maps it there).
"""
