"""Text from outside shown as text, never as markup: the one place every view goes through.

Qt guesses: a label, a message box, a tooltip or a table cell's tooltip whose string *looks* like
HTML (`Qt::mightBeRichText`: a tag near the start) is rendered as rich text, and rich text loads
what it names: `<img src=/some/fifo>` blocks the GUI thread for ever, `<img src=/dev/zero>` eats
memory until the process aborts. A file name, an agent file's hints, a study name, an env id or an
exception message can hold such a tag. So:

- labels and message boxes are made here: with `Qt.PlainText` (`label`, `message_box`, `ask`), or
  for markup of our own with `Qt.RichText` (`rich_label`), every outside string in it escaped;
- tooltips, which have no plain-text switch, get escaped markup of our own (`tooltip`, `markup`);
- where a view builds HTML itself (a diff table), every outside string in it goes through `escape`.

Status-bar messages, window titles, combo boxes and item texts are drawn as plain text by Qt itself.
"""

from __future__ import annotations

import html
from typing import Protocol

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QMessageBox, QWidget

INFORMATIVE_LABEL = "qt_msgbox_informativelabel"  # QMessageBox's own name for that label
# The standard buttons' texts with a mnemonic each (Alt+D discards); Qt's own have none for most.
MNEMONICS = {QMessageBox.Save: "&Save", QMessageBox.Discard: "&Discard", QMessageBox.Cancel: "&Cancel",
             QMessageBox.Yes: "&Yes", QMessageBox.No: "&No", QMessageBox.Ok: "&OK", QMessageBox.Close: "C&lose"}


def escape(text: str) -> str:
    """`text` for a place inside markup we write: every character shown as itself."""
    return html.escape(text, quote=True)


def markup(text: str) -> str:
    """Plain `text` as rich text that shows exactly that text (line breaks kept): for tooltips."""
    return "<qt>" + escape(text).replace("\n", "<br>") + "</qt>" if text else ""


def label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that shows its text as plain text, whatever it holds."""
    widget = QLabel(parent)
    widget.setTextFormat(Qt.PlainText)
    widget.setText(text)
    return widget


def rich_label(html: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel for markup we write; every outside string in `html` must have gone through `escape`."""
    widget = QLabel(parent)
    widget.setTextFormat(Qt.RichText)
    widget.setText(html)
    return widget


class HasToolTip(Protocol):
    def setToolTip(self, text: str) -> None: ...


def tooltip(widget: HasToolTip, text: str) -> None:
    """Set a tooltip that shows `text` as plain text."""
    widget.setToolTip(markup(text))


def message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str, informative: str = "",
                detailed: str = "", buttons: QMessageBox.StandardButtons | QMessageBox.StandardButton = QMessageBox.Ok,
                default: QMessageBox.StandardButton = QMessageBox.NoButton) -> QMessageBox:
    """A message box whose text, informative text and details are all plain text (not shown yet)."""
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(Qt.PlainText)
    box.setText(text)
    if informative:
        box.setInformativeText(" ")  # creates Qt's informative label, which is AutoText by default
        informative_label = box.findChild(QLabel, INFORMATIVE_LABEL)
        if informative_label is not None:
            informative_label.setTextFormat(Qt.PlainText)
        box.setInformativeText(informative)
    if detailed:
        box.setDetailedText(detailed)  # a QTextEdit filled with setPlainText
    if default != QMessageBox.NoButton:
        box.setDefaultButton(default)
    for which, text in MNEMONICS.items():
        if (button := box.button(which)) is not None:
            button.setText(text)
    return box


def ask(parent: QWidget | None, title: str, text: str, buttons: QMessageBox.StandardButtons,
        default: QMessageBox.StandardButton) -> int:
    """QMessageBox.question, with its text shown as plain text and a mnemonic on every button; returns
    the button pressed."""
    return message_box(parent, QMessageBox.Question, title, text, buttons=buttons, default=default).exec_()
