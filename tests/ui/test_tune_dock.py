"""The Tune view in the window on a laptop screen: docked at the bottom beside the run, or as its own window,
its Start, Stop and "Use these parameters" buttons always on screen and the run's views still usable."""

from __future__ import annotations

from PyQt5.QtCore import QRect, Qt
from PyQt5.QtWidgets import QApplication

from tests.ui.test_screen_fit import at_laptop_size, clipped_labels

MIN_PLOT = 120  # px of data area each plot keeps (its viewbox), however short the plot column


def buttons(view):
    return (view.start_button, view.stop_button, view.use_button)


def test_docked_on_a_laptop_its_buttons_are_in_the_window_and_the_run_keeps_its_views(qtbot, window):
    at_laptop_size(qtbot, window)
    window.act_tune.trigger()
    view, dock = window.tune_view, window.tune_view.dock
    qtbot.waitUntil(lambda: view.isVisible())
    QApplication.processEvents()
    assert not dock.isFloating() and window.dockWidgetArea(dock) == Qt.BottomDockWidgetArea
    assert window.size().width() == 1024 and window.size().height() == 700
    status_top = window.statusBar().mapTo(window, window.statusBar().rect().topLeft()).y()
    for button in buttons(view):
        rect = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
        assert button.isVisible() and window.rect().contains(rect), button.text()
        assert rect.bottom() < status_top, f"{button.text()} lies under the status bar"
    assert view.trials_table.isVisible() and view.trials_table.height() >= 80
    assert window.render_view.height() >= 150 and window.plots.height() >= 300  # the run stays in view
    assert clipped_labels(window) == []
    status_height = view.status.height()
    view.status.setText("Finished study 'app-20250101-120000': 12 complete, 3 pruned, 0 failed.\n"
                        "rl-sandbox tune show --study app-20250101-120000 prints it.")
    QApplication.processEvents()
    assert view.status.height() == status_height, "a longer status line moves the layout"


def test_as_its_own_window_it_fits_the_screen_and_shows_its_buttons(qtbot, window):
    at_laptop_size(qtbot, window)
    window.act_tune.trigger()
    view, dock = window.tune_view, window.tune_view.dock
    dock.setFloating(True)
    qtbot.waitUntil(lambda: dock.isFloating() and dock.isVisible())
    QApplication.processEvents()
    screen = dock.screen().availableGeometry()
    assert dock.width() <= max(screen.width(), 1024) and dock.height() <= max(screen.height(), 700)
    for button in buttons(view):
        rect = QRect(button.mapTo(dock, button.rect().topLeft()), button.size())
        assert button.isVisible() and dock.rect().contains(rect), button.text()
    assert clipped_labels(dock) == []


def test_docked_on_a_laptop_every_plot_keeps_its_data_area_and_the_plot_column_scrolls_to_it(qtbot, window):
    at_laptop_size(qtbot, window)
    window.act_tune.trigger()
    qtbot.waitUntil(lambda: window.tune_view.isVisible())
    QApplication.processEvents()
    plots = window.plots
    for plot in (plots.score_plot, plots.loss_plot, plots.epsilon_plot):
        height = plot.getViewBox().height()
        assert height >= MIN_PLOT, f"{plot.titleLabel.text!r} has {height:.0f} px of data area"
    scene = plots.layout_widget.height()
    shown = plots.scroll_area.viewport().height()
    bar = plots.scroll_area.verticalScrollBar()
    assert scene <= shown or (bar.isVisible() and bar.maximum() >= scene - shown), "a plot is out of reach"
    score = plots.score_plot.getViewBox()  # the score plot leads the column, in view without scrolling
    assert bar.value() == 0 and score.sceneBoundingRect().bottom() <= shown
