"""The status bar's permanent fields, bound to the session: they show the worker's last report,
and after a new run begins, that run's own counters (never the previous run's)."""

from __future__ import annotations

from PyQt5.QtWidgets import QLabel, QStatusBar

from sandbox.app.session import Session, Snapshot, State, Status
from sandbox.core.trainer import EpisodeStats
from ui import format as fmt
from ui import plain
from ui.views.result_line import solved_message

FIELDS = (("state", "What the trainer is doing", 80), ("episode", "Episodes finished", 90),
          ("steps", "Env steps taken", 110), ("speed", "Env steps per second while running", 110),
          ("epsilon", "Current exploration probability", 70), ("memory", "Replay memory fill", 150),
          ("elapsed", "Time spent training", 60))
COLORS = {State.RUNNING: "#1565c0", State.SOLVED: "#2e7d32", State.STOPPED: "#b00020"}


class StatusFields:
    def __init__(self, bar: QStatusBar, session: Session) -> None:
        self.labels: dict[str, QLabel] = {}
        for key, tip, width in FIELDS:
            label = plain.rich_label() if key == "state" else plain.label()  # the state's colour is our markup
            plain.tooltip(label, tip)
            label.setMinimumWidth(width)
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self.session = session
        session.status_changed.connect(self.show_status)
        session.state_changed.connect(self.show_state)
        session.began.connect(self.begin)
        session.solved.connect(self.show_solved)
        self.bar, self.solved_text = bar, ""
        self.solved_at: int | None = None  # the run's first solved episode (1-based): the state field keeps it
        self.show_state(State.IDLE)

    def begin(self, snap: Snapshot) -> None:
        self.labels["speed"].setText("")  # the new run's own rate (a dash until it trains), not the last run's
        self.show_status(snap.status)
        if self.solved_text and self.bar.currentMessage() == self.solved_text:  # the old run's news
            self.bar.clearMessage()
        first = next((e for e in snap.history.episodes if e.solved), None)  # an opened run may be solved
        self.solved_at = None if first is None else first.index + 1
        self.show_state(self.session.state)

    def show_solved(self, episode: EpisodeStats) -> None:
        config = self.session.config
        assert config is not None  # a run is under way: it has a config
        self.solved_text = solved_message(episode, config)
        self.bar.showMessage(self.solved_text, 20_000)  # the news; the state field keeps the fact
        self.solved_at = episode.index + 1
        self.show_state(self.session.state)

    def show_status(self, status: Status | None) -> None:
        if status is None:
            return
        texts = {
            "episode": f"episode {fmt.count(status.episodes)}",
            "steps": fmt.plural(status.total_steps, "step"),
            "speed": f"{fmt.rate(status.steps_per_second)} steps/s",
            "epsilon": f"ε {status.epsilon:.3f}",
            "memory": f"memory {fmt.count(status.memory_size)}/{fmt.count(status.memory_capacity)}",
            "elapsed": fmt.elapsed(status.elapsed),
        }
        if self.session.state is not State.RUNNING and self.labels["speed"].text():
            del texts["speed"]  # nothing trains: the last rate stays (a single Step's would be meaningless)
        for key, text in texts.items():
            if self.labels[key].text() != text:  # each change relays out and repaints the status bar
                self.labels[key].setText(text)

    def show_state(self, state: State) -> None:
        solved = "" if not self.solved_at else \
            f" at episode {fmt.count(self.solved_at)}" if state == State.SOLVED else \
            f" · solved at episode {fmt.count(self.solved_at)}"
        self.labels["state"].setText(f"<b style='color:{COLORS.get(state, '#333')}'>{state.value}</b>{solved}")

    def text(self, key: str) -> str:
        return self.labels[key].text()
