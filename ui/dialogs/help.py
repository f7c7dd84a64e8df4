"""The Help menu's two texts: a quick start (the steps a new user takes) and the presets, each with the
description its preset file holds (`sandbox.core.config.preset_description`: one source, which the
README's list follows). Plain text in a message box that does not block: the window goes on training."""

from __future__ import annotations

from PyQt5.QtWidgets import QMessageBox, QWidget

from sandbox.core.config import preset_description, preset_names
from ui import plain

QUICK_START = (
    "1. Pick a preset in the panel (Help ▸ Presets says what each is for); notebook is MountainCar as the "
    "tutorial trains it.",
    "2. Press Start (Space). The score plot fills in; the blue line is the moving average to watch.",
    "3. Press X to watch a random policy: the grey cross is the score to beat.",
    "4. Pause (Space) and press S or E to step one step or one episode; the car view shows the Q-values.",
    "5. Change a parameter in the panel while it trains (live fields apply at once, with a marker on the plot); "
    "the others need New agent.",
    "6. Press G to watch the greedy policy, or Ctrl+E to evaluate it over many episodes.",
    "7. If the average collapses after a peak, Restore best agent (Ctrl+B) brings back the best one.",
    "8. Save it (Ctrl+S); the Runs tab keeps every run for comparison, and Run ▸ Tune… searches parameters.",
)


def _box(parent: QWidget, title: str, text: str, informative: str) -> QMessageBox:
    box = plain.message_box(parent, QMessageBox.Information, title, text, informative)
    box.setModal(False)
    box.show()  # open() would make it window-modal
    return box


def quick_start(parent: QWidget) -> QMessageBox:
    return _box(parent, "Quick start", "Train an agent and watch it learn, in eight steps:", "\n\n".join(QUICK_START))


def presets(parent: QWidget) -> QMessageBox:
    lines = [f"{name}: {preset_description(name) or 'no description in its file'}" for name in preset_names()]
    return _box(parent, "Presets", "The panel's presets (resources/presets/*.toml):", "\n\n".join(lines))
