"""Long lines on a laptop screen (1024×700) are read in full: the result line under the env view wraps
(an evaluation's figures, Drive's instructions), and a run's line in the Runs list wraps to the list's
width instead of needing a sideways scroll to show its best average."""

from PyQt5.QtCore import QRect, Qt
from PyQt5.QtWidgets import QApplication

from sandbox.core.evaluate import EvalResult
from tests.ui.test_screen_fit import at_laptop_size, clipped_labels
from tests.ui.test_seeds_and_ghosts import finished_run

EVALUATION = EvalResult(scores=(-106.0, -83.0, -95.0), mean=-94.7, std=9.4, min=-106.0, max=-83.0,
                        success_rate=0.67, threshold=-110.0)


def wrapped_in_full(label) -> bool:
    return label.wordWrap() and label.heightForWidth(label.width()) <= label.height()


def test_the_result_line_shows_an_evaluation_and_drives_instructions_in_full(qtbot, window):
    at_laptop_size(qtbot, window)
    line = window.result_label
    for show in (lambda: line.show_evaluation(EVALUATION), lambda: line.show_driving(3),
                 lambda: line.show_driving(4)):
        show()
        qtbot.waitUntil(lambda: wrapped_in_full(line))
        QApplication.processEvents()
        assert clipped_labels(window) == [], line.text()
        assert window.render_view.height() >= 150  # the car stays in view


def test_a_runs_line_wraps_to_the_lists_width(qtbot, window):
    finished_run(qtbot, window, max_episodes=2)
    finished_run(qtbot, window, max_episodes=2, learning_rate=5e-4, batch_size=48, target_update="hard", gamma=0.97)
    finished_run(qtbot, window, max_episodes=3)  # the second run is now in the log, with its diff line
    at_laptop_size(qtbot, window)
    window.tabs.setCurrentWidget(window.runs_view)
    runs = window.runs_view.list
    qtbot.waitUntil(lambda: runs.count() >= 2 and runs.isVisible())
    QApplication.processEvents()
    assert runs.horizontalScrollBar().maximum() == 0, "a run's line needs a sideways scroll"
    for i in range(runs.count()):
        item = runs.item(i)
        rect = runs.visualItemRect(item)
        text_room = QRect(0, 0, rect.width() - runs.iconSize().width() - 24, 10_000)  # beside the tick box
        need = runs.fontMetrics().boundingRect(text_room, Qt.TextWordWrap, item.text()).height()
        assert rect.right() <= runs.viewport().width() and rect.height() >= need, item.text()  # not elided
