"""The line under the env view that says what a greedy run, a random run, a human's drive or an
evaluation scored. It wraps and keeps the height of its lines (`ui/wrapped_height.py`): on a narrow
column a long result takes a second line from the car view rather than being cut off."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QSizePolicy

from sandbox.app.session import State
from sandbox.core.config import Config
from sandbox.core.evaluate import EvalResult
from sandbox.core.trainer import EpisodeStats
from ui import format as fmt
from ui.wrapped_height import fit, keep_wrapped_height


class ResultLine(QLabel):
    def __init__(self) -> None:
        super().__init__("")
        self.setTextFormat(Qt.RichText)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Minimum)
        keep_wrapped_height(self)

    def setText(self, text: str) -> None:
        super().setText(text)
        fit(self)

    def show_state(self, state: State) -> None:
        if state is State.GREEDY:
            self.setText("Watching the greedy policy (no exploration, no learning)…")
        elif state is State.RANDOM:
            self.setText("Watching a uniformly random policy: the baseline the agent must beat…")
        elif state is State.EVALUATING:
            self.setText("Evaluating greedy episodes…")

    def show_driving(self, n_actions: int) -> None:
        keys = "←/→ (↑ for the main engine)" if n_actions == 4 else "← and →"
        self.setText(f"<b>You are driving</b>: press {keys} to start; release for no push. "
                     "Your score joins the score plot as an orange diamond.")

    def show_watch(self, kind: str, score: float) -> str:
        name = "Random policy" if kind == State.RANDOM.value else "Greedy run"
        mark = " (grey cross on the score plot)" if kind == State.RANDOM.value else ""
        self.setText(f"<b>{name}</b>: score {fmt.score(score)}{mark}")
        return f"{name} finished with score {fmt.score(score)}"

    def show_human(self, score: float) -> str:
        self.setText(f"<b>Your score</b>: {fmt.score(score)} (orange diamond on the score plot)")
        return f"You scored {fmt.score(score)}"

    def show_evaluation(self, result: EvalResult) -> str:
        verdict = ("<span style='color:#080'>solved</span>" if result.solved else "not solved") \
            if result.threshold is not None else "no threshold"
        self.setText(f"<b>Evaluation</b> ({len(result.scores)} greedy episodes): mean {result.mean:.1f} ± "
                     f"{result.std:.1f}, min {fmt.score(result.min)}, max {fmt.score(result.max)}, success "
                     f"{result.success_rate:.0%} — {verdict}")
        return f"Evaluation: mean {result.mean:.1f} ± {result.std:.1f}"


def solved_message(episode: EpisodeStats, config: Config) -> str:
    """What solving means for the rest of the run: it stops, or it trains on and keeps the best agent."""
    value = f"greedy {episode.greedy_mean:.1f}" if episode.evaluated else f"average {episode.moving_average:.1f}"
    if config.stop_when_solved:
        return f"Solved at episode {fmt.count(episode.index + 1)} ({value}). Training stops here."
    return (f"Solved at episode {fmt.count(episode.index + 1)} ({value}); training on to "
            f"{fmt.plural(config.max_episodes, 'episode')}, keeping the best agent.")  # fits beside the status fields
