"""The window on a laptop screen (1024×700): it fits, every view keeps its place, and no text is cut off.

The checks walk the real window's widget tree: a label's text must fit its width (or wrap into its
height), inside what its parents show of it; the toolbar must show all its buttons (no ">>" menu);
the plot column and its legend must lie inside the window.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt5.QtCore import QPoint, QRect, Qt
from PyQt5.QtWidgets import QApplication, QLabel, QToolButton, QWidget

from tests.ui.helpers import settle

LAPTOP = (1024, 700)


def shown_rect(widget: QWidget) -> QRect:
    """The part of `widget` its parents show, in its own coordinates (a scroll area's viewport clips it)."""
    rect = widget.rect()
    child, parent = widget, widget.parentWidget()
    offset = QPoint(0, 0)
    while parent is not None:
        offset += child.pos()
        rect = rect.intersected(parent.rect().translated(-offset))
        if parent.isWindow():
            break
        child, parent = parent, parent.parentWidget()
    return rect


def clipped_labels(root: QWidget) -> list[str]:
    """Every visible label under `root` whose text does not fit: too wide for one line, too tall for its
    wrapped lines, or wider than what its parents show of it."""
    problems = []
    for label in root.findChildren(QLabel):
        if not label.isVisible() or not label.text().strip() or label.pixmap() is not None:
            continue
        name = f"{type(label).__name__} {label.text()[:50]!r}"
        width, height = label.contentsRect().width(), label.contentsRect().height()
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height():
                problems.append(f"{name}: wraps to {need} px in {label.height()} px")
        elif label.minimumSizeHint().width() > label.width():
            problems.append(f"{name}: needs {label.minimumSizeHint().width()} px, has {width}")
        shown = shown_rect(label)
        if height > 0 and shown.height() > 0 and shown.width() < min(label.width(), label.sizeHint().width()):
            problems.append(f"{name}: {shown.width()} of its {label.width()} px are shown")
    return problems


def at_laptop_size(qtbot, window) -> None:
    window.resize(*LAPTOP)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.size().width() == LAPTOP[0] and window.size().height() == LAPTOP[1])
    QApplication.processEvents()


def test_the_window_opens_no_larger_than_the_screen_and_its_minimum_fits_a_laptop(qtbot, window):
    available = window.screen().availableGeometry()
    assert window.width() <= max(available.width(), LAPTOP[0])
    assert window.height() <= max(available.height(), LAPTOP[1])
    hint, minimum = window.minimumSizeHint(), window.minimumSize()
    assert max(hint.width(), minimum.width()) <= LAPTOP[0] - 24  # room for a window frame
    assert max(hint.height(), minimum.height()) <= LAPTOP[1] - 60  # and a title bar and a panel


def test_at_1024x700_every_view_lies_inside_the_window_and_no_label_is_clipped(qtbot, window):
    at_laptop_size(qtbot, window)
    right = window.centralWidget().width()
    for view in (window.panel, window.middle, window.plots):
        geometry = view.geometry()
        assert geometry.left() >= 0 and geometry.right() < right, type(view).__name__
        assert view.width() >= 250, f"{type(view).__name__} is squashed to {view.width()} px"
    legend = window.plots.legend.sceneBoundingRect()
    assert legend.right() <= window.plots.layout_widget.width(), "the plots' legend runs off the right"
    for graphics in window.findChildren(pg.GraphicsLayoutWidget):  # plots drawn in a scene: no QLabel to check
        if graphics.isVisible():
            need = graphics.ci.effectiveSizeHint(Qt.MinimumSize)
            shown = graphics.viewport().size()
            scene = graphics.ci.geometry()  # wider than the view, its right part is cut off
            for width, height in ((need.width(), need.height()), (scene.width(), scene.height())):
                assert width < shown.width() + 1 and height < shown.height() + 1, type(graphics.parent()).__name__
    assert clipped_labels(window) == []


def test_at_1024x700_the_toolbar_shows_every_button(qtbot, window):
    at_laptop_size(qtbot, window)
    extension = window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible(), "the toolbar hides buttons behind >>"
    for action in window.toolbar.actions():
        if not action.isSeparator():
            widget = window.toolbar.widgetForAction(action)
            assert widget is not None and widget.isVisible(), action.text()
    assert window.speed_box.isVisible()



def test_the_news_after_open_restore_best_and_a_seed_batch_is_short_enough_for_a_laptop_status_bar(
        qtbot, window, monkeypatch, tmp_path):
    """Seen in the 1024x700 screenshots (docs/laptop-open.png, docs/laptop-seeds.png): "Opened /long/path/…"
    and the seed batch's news were cut off by the status fields, and Restore best said nothing. The news
    names the file, not its folder (just picked; the title shows the name too), in at most 40 characters
    for these (the room left of the fields at 1024 px in DejaVu Sans)."""
    from PyQt5.QtWidgets import QFileDialog, QMessageBox

    from sandbox.app.session import State
    from tests.ui.helpers import quick_config
    from ui import plain

    at_laptop_size(qtbot, window)
    bar = window.statusBar()
    window.begin_run(quick_config(solve_window=2, max_episodes=6))
    qtbot.waitUntil(lambda: window.session.config.max_episodes == 6, timeout=10_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.STOPPED, timeout=60_000)
    saved = tmp_path / "a folder a learner made" / "first.agent"
    saved.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    window.act_save_as.trigger()
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=30_000)
    assert bar.currentMessage().startswith("Saved first.agent (")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: bar.currentMessage().startswith("Opened"), timeout=30_000)
    assert bar.currentMessage() == "Opened first.agent: 6 episodes"

    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Yes)
    best = window.session.best
    window.act_restore_best.trigger()
    qtbot.waitUntil(lambda: bar.currentMessage().startswith("Restored"), timeout=30_000)
    assert bar.currentMessage() == f"Restored the best agent (episode {best.episode + 1})"

    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)  # the restored run is unsaved
    window.panel.set_config(quick_config(max_episodes=2))
    window.runs_view.seeds.setValue(3)
    window.runs_view.seeds_button.click()
    qtbot.waitUntil(lambda: window.session.band is not None and window.session.batch is None, timeout=120_000)
    qtbot.waitUntil(lambda: "band" in bar.currentMessage(), timeout=10_000)
    assert len(bar.currentMessage()) <= 40, bar.currentMessage()
