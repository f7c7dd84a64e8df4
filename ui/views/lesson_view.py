"""The Lesson tab: a lesson's steps, each explained, done for the learner, and checked on their run.

"Do it" performs the step's action through the window's normal command path (a new agent from the
step's config after the usual question, then Start; or the random baseline played in the worker);
"Check my run" measures the step's check on the learner's own run (the random episodes the session
holds, or the worker's trainer) and shows the verdict with its evidence. Progress (the step the
learner is at, the steps passed) is kept in the settings across restarts. A lesson's text is
Markdown source shown as plain text: nothing from a lesson file is rendered.
"""

from __future__ import annotations

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sandbox.app.lesson import Lesson, LessonError, Step, lesson_names, load_lesson
from sandbox.app.lesson_run import Verdict, measure_random
from sandbox.app.session import Session
from ui import plain
from ui.settings import Settings

# "Do it" is what the lessons' texts call the button; what it does is its tooltip (a long label made the tab
# wider than its place on a laptop, cutting off the text and "Check my run").
DO_TIPS = {"read": "Nothing to run in this step: read it, then Next step.",
           "random": "Play {episodes} episodes of a uniformly random policy; their mean is drawn as a dotted line "
                     "on the score plot.",
           "train": "Start a new agent from this step's config (asks before discarding unsaved training) and train "
                    "it, {episodes} episodes at most."}
MARKS = {True: "✓", False: "✗", None: "·"}
FIRST_LESSON = "mountaincar"


class LessonView(QWidget):
    """Walks a lesson; asks the window to `perform(step)` and to `check_trainer(step)`."""

    perform = pyqtSignal(object)  # Step: do what it says, through the normal command path
    check_trainer = pyqtSignal(object)  # Step: measure its check on the worker's trainer

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.session: Session | None = None
        self.lesson: Lesson | None = None
        self.current = 0
        self.passed: frozenset[int] = frozenset()
        self.verdicts: dict[int, bool] = {}
        self.chooser = QComboBox()
        for name in lesson_names():
            self.chooser.addItem(name, name)
        plain.tooltip(self.chooser, "The shipped lessons (resources/lessons); `rl-sandbox lesson check` runs one "
                                    "headless.")
        self.steps = QListWidget()
        self.title = plain.label()
        self.title.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.verdict = plain.label()
        self.verdict.setWordWrap(True)
        self.do_button = QPushButton()
        self.check_button = QPushButton("&Check my run")
        self.next_button = QPushButton("Ne&xt step")
        plain.tooltip(self.check_button, "Measure this step's check on your own run and show the evidence.")
        buttons = QHBoxLayout()
        for b in (self.do_button, self.check_button, self.next_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.text, 1)
        column.addWidget(self.verdict)
        column.addLayout(buttons)
        split = QSplitter()
        split.addWidget(self.steps)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        inner = QWidget()
        column_all = QVBoxLayout(inner)
        column_all.setContentsMargins(4, 4, 4, 4)  # the tab is narrow on a laptop: its width goes to the step
        column_all.addWidget(self.chooser)
        column_all.addWidget(split, 1)
        scroll = QScrollArea()  # a short tab (a laptop with the Tune dock open) scrolls instead of growing the window
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.chooser.activated.connect(lambda _i: self.open(self.chooser.currentData()))
        self.steps.currentRowChanged.connect(self.show_step)
        self.do_button.clicked.connect(self._perform)
        self.check_button.clicked.connect(self.check)
        self.next_button.clicked.connect(lambda: self.steps.setCurrentRow(min(self.current + 1,
                                                                              self.steps.count() - 1)))
        if self.chooser.count():  # the notebook's own lesson first
            self.chooser.setCurrentIndex(max(self.chooser.findData(FIRST_LESSON), 0))
            self.open(self.chooser.currentData())

    def bind(self, session: Session) -> None:
        """The random baseline is read from the session's watched random episodes."""
        self.session = session

    @property
    def step(self) -> Step | None:
        return self.lesson.steps[self.current] if self.lesson and 0 <= self.current < len(self.lesson.steps) else None

    def open(self, name: str) -> None:
        try:
            self.lesson = load_lesson(name)
        except LessonError as exc:
            self.lesson = None
            self.steps.clear()
            self.verdict.setText(str(exc))
            return
        self.current, self.passed = self.settings.lesson_progress(self.lesson.name)
        self.current = min(self.current, len(self.lesson.steps) - 1)
        self.verdicts = {i: True for i in self.passed}
        self.steps.blockSignals(True)
        self.steps.clear()
        for i, step in enumerate(self.lesson.steps):
            item = QListWidgetItem(self._row(i, step))
            plain.tooltip(item, f"{i + 1}. {step.title}")  # the list is narrow: the title in full on hover
            self.steps.addItem(item)
        self.steps.blockSignals(False)
        self.steps.setCurrentRow(self.current)
        self.show_step(self.current)

    def _row(self, index: int, step: Step) -> str:
        return f"{MARKS[self.verdicts.get(index)]} {index + 1}. {step.title}"

    def _perform(self) -> None:
        if self.step is not None:
            self.perform.emit(self.step)

    def show_step(self, index: int) -> None:
        if self.lesson is None or not 0 <= index < len(self.lesson.steps):
            return
        self.current = index
        step = self.lesson.steps[index]
        self.title.setText(f"Step {index + 1} of {len(self.lesson.steps)}: {step.title}")
        self.text.setPlainText(step.text)
        self.do_button.setText("&Do it")
        plain.tooltip(self.do_button, DO_TIPS[step.do].format(episodes=f"{step.episodes:,}"))
        self.do_button.setEnabled(step.do != "read")
        self.check_button.setEnabled(step.check is not None)
        self.next_button.setEnabled(index + 1 < len(self.lesson.steps))
        self.verdict.setText("" if step.check is None else f"Check my run measures whether {step.check.says} "
                                                           f"({step.check.metric}).")
        self._save()

    def check(self) -> None:
        step = self.step
        if step is None or step.check is None:
            return
        if step.do == "random":
            scores = [r.score for r in self.session.watch_results if r.kind == "random"] if self.session else []
            verdict = measure_random(step, scores)
            if verdict is None:
                self.verdict.setText("No random episodes in this run yet: press Do it first.")
                return
            self.show_verdict(verdict)
        else:
            self.verdict.setText("Measuring your run…")
            self.check_trainer.emit(step)

    def show_verdict(self, verdict: Verdict) -> None:
        """The check's result on the learner's run, for the current step."""
        word = "Passed" if verdict.passed else "Not yet"
        self.verdict.setText(f"{word}: your run's {verdict.evidence}")
        self.verdicts[self.current] = verdict.passed
        if verdict.passed:
            self.passed = self.passed | {self.current}
        item = self.steps.item(self.current)
        if self.lesson is not None and item is not None:
            item.setText(self._row(self.current, self.lesson.steps[self.current]))
        self._save()

    def _save(self) -> None:
        if self.lesson is not None:
            self.settings.set_lesson_progress(self.lesson.name, self.current, self.passed)
