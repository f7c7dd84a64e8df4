"""The Tune view (`ui/tune/view.py`): a search started from the window, its live trials table, the best
trial applied to a new agent, and Stop or closing the window ending every worker process.

Budgets are tiny (CartPole, 1000 env steps per seed, greedy checks of 3 episodes): these tests check
the machinery, not what it finds. The storage is `tune.db` in the test's data folder, as in the CLI.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

import main
from sandbox.core.config import load_preset
from sandbox.io.files import data_dir
from sandbox.tune.search import SPEC_ATTR, TuneSpec, make_spec
from sandbox.tune.space import build_space
from ui.tune.cells import value_text

CARTPOLE = dict(learning_starts=100, memory_capacity=2000, batch_size=32)


def gone(pid: int) -> bool:
    """The process has exited and been reaped (no zombie either)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def tune(qtbot, window):
    """The window on a small CartPole config, its Tune tab shown and set to a tiny 2-trial search."""
    window.begin_run(load_preset("cartpole").with_changes(**CARTPOLE))
    qtbot.waitUntil(lambda: window.session.config.env_id == "CartPole-v1", timeout=15_000)
    window.act_tune.trigger()
    view = window.tune_view
    assert view.dock.isVisible() and view.isVisible()
    view.space_table.set_searched({"learning_rate": None, "gamma": "0.9..0.99"})
    view.objective.setCurrentIndex(view.objective.findData("score"))
    view.seeds.setValue(1)
    view.trials.setValue(2)
    view.jobs.setValue(1)
    view.pruner.setCurrentIndex(view.pruner.findData("none"))
    view.budget.setValue(1000)
    view.eval_every.setValue(10)
    view.eval_episodes.setValue(3)
    return view


def workers_left() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name.startswith("tune-worker")]


def test_a_search_fills_the_table_from_storage_and_its_best_trial_starts_a_new_agent(qtbot, window, tune, capsys):
    name = tune.study_edit.text()
    tune.start_button.click()
    qtbot.waitUntil(lambda: not tune.running and bool(tune.rows), timeout=180_000)  # busy machines
    assert [r.state for r in tune.rows] == ["complete", "complete"], tune.status.text()
    assert f"Finished study {name!r}: 2 complete" in tune.status.text()
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{data_dir() / 'tune.db'}")
    table = tune.trials_table
    headers = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert headers == ["#", "state", "value", "learning_rate", "gamma", "note"]
    for i, trial in enumerate(study.get_trials()):
        cells = [table.item(i, j).data(0x0100) for j in range(5)]  # Qt.UserRole: the raw value
        assert cells == [trial.number, "complete", trial.value, trial.params["learning_rate"], trial.params["gamma"]]
        assert table.item(i, 2).text() == value_text(trial.value)
    named = tune.best()  # the re-check's best once it has run (it re-runs both trials), else the best value
    assert named is not None and table.item(named.number, 0).font().bold() and tune.use_button.isEnabled()
    assert [i for i in range(table.rowCount()) if table.item(i, 0).font().bold()] == [named.number]
    best = study.trials[named.number]
    spec = TuneSpec.from_json(study.user_attrs[SPEC_ATTR])
    assert 0.9 <= best.params["gamma"] <= 0.99 and spec.seeds == 1 and spec.budget == 1000
    assert all(p.exitcode == 0 for p in tune.search.procs) and workers_left() == []
    assert main.main(["tune", "show", "--study", name]) == 0  # the CLI's default storage holds it too
    assert "trials (2 complete)" in capsys.readouterr().out

    began = []
    window.session.began.connect(began.append)
    tune.use_button.click()
    qtbot.waitUntil(lambda: len(began) == 1, timeout=15_000)
    for config in (window.session.config, window.panel.config):
        assert config.learning_rate == best.params["learning_rate"] and config.gamma == best.params["gamma"]
        assert config.env_id == "CartPole-v1" and config.learning_starts == 100  # the rest is the base config
    assert window.session.history.episodes == []

    qtbot.waitUntil(lambda: tune.study_box.findText(name) >= 0, timeout=15_000)  # listed once it ended
    tune.study_edit.selectAll()
    qtbot.keyClicks(tune.study_edit, "another")  # a new name: the finished study's trials are not offered
    assert tune.rows == [] and tune.trials_table.rowCount() == 0 and not tune.use_button.isEnabled()
    assert "Study 'another'" in tune.status.text()


def test_stop_ends_the_worker_processes_and_says_what_finished(qtbot, tune):
    tune.budget.setValue(200_000)  # a trial that would take minutes
    tune.start_button.click()
    # Running with its params drawn: its worker has claimed it (a trial killed before that is failed later).
    qtbot.waitUntil(lambda: any(r.state == "running" and r.params for r in tune.rows), timeout=120_000)
    pids = tune.search.pids()
    assert pids and not any(gone(pid) for pid in pids)
    # While it runs, its state cell says how far it got: its worker records the seed's steps at each check.
    state = tune.trials_table.item(0, 1)
    qtbot.waitUntil(lambda: state.text().startswith("running (0/1 seeds done, ") and "(0/1 seeds done, 0 steps)"
                    not in state.text(), timeout=120_000)
    assert state.text().endswith(" steps)") and state.data(0x0100) == "running"
    tune.stop_button.click()
    qtbot.waitUntil(lambda: not tune.running and "Stopped" in tune.status.text(), timeout=15_000)
    assert all(gone(pid) for pid in pids) and workers_left() == []
    assert "0 complete, 0 pruned, 0 failed, 1 stopped" in tune.status.text()
    assert "1 stopped while running" in tune.status.text()
    assert [r.state for r in tune.rows] == ["stopped"] and tune.rows[0].note == "stopped from the app"
    assert tune.trials_table.item(0, 1).text() == "stopped"
    assert tune.start_button.isEnabled() and not tune.use_button.isEnabled()


def test_closing_the_window_during_a_search_leaves_no_worker_process(qtbot, window, tune):
    tune.budget.setValue(200_000)
    tune.jobs.setValue(min(2, tune.jobs.maximum()))
    tune.start_button.click()
    qtbot.waitUntil(lambda: any(r.state == "running" for r in tune.rows), timeout=120_000)
    pids = tune.search.pids()
    window.session.forget_changes()
    window.close()
    assert len(pids) == min(2, tune.jobs.maximum()) and all(gone(pid) for pid in pids) and workers_left() == []
    assert not tune.running


def test_a_study_made_earlier_is_listed_shown_and_usable_after_a_restart(qtbot, window, tune, capsys):
    """A study from an earlier session (here made by the CLI) is in the list; picking it shows its
    trials and search, and its best trial starts a new agent. Studies not made by tune are not listed."""
    assert main.main(["tune", "--preset", "cartpole", "--params", "gamma", "--set", "gamma=0.9..0.99",
                      "--set", "learning_starts=100", "--objective", "score", "--seeds", "1", "--trials", "2",
                      "--budget", "600", "--eval-every", "5", "--eval-episodes", "2", "--pruner", "none",
                      "--study", "earlier"]) == 0
    capsys.readouterr()
    optuna.create_study(study_name="foreign", storage=f"sqlite:///{data_dir() / 'tune.db'}")
    tune.load_names()
    qtbot.waitUntil(lambda: tune.study_box.findText("earlier") >= 0, timeout=15_000)
    assert tune.study_box.findText("foreign") == -1
    tune.study_box.setCurrentIndex(tune.study_box.findText("earlier"))  # picked from the list: the name shows
    tune.study_box.activated[str].emit("earlier")  # ... and then the combo box says so
    qtbot.waitUntil(lambda: len(tune.rows) == 2, timeout=15_000)
    assert "Study 'earlier' (stored): 2 complete" in tune.status.text()
    table = tune.trials_table
    assert [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())] == [
        "#", "state", "value", "gamma", "note"]
    assert tune.objective.currentData() == "score" and tune.budget.value() == 600 and tune.seeds.value() == 1
    assert tune.space_table.space()[0].keys() == {"gamma"}
    best = optuna.load_study(study_name="earlier", storage=f"sqlite:///{data_dir() / 'tune.db'}").best_trial
    began = []
    window.session.began.connect(began.append)
    tune.use_button.click()
    qtbot.waitUntil(lambda: len(began) == 1, timeout=15_000)
    assert window.session.config.gamma == best.params["gamma"] and window.session.config.env_id == "CartPole-v1"


# --- stored studies are untrusted input --------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
STORED = make_spec(load_preset("cartpole").with_changes(**CARTPOLE), build_space(["gamma"], [])[0], "score", seeds=1,
                   budget=600, eval_every=5, eval_episodes=2).to_json()


def _store(name: str, spec: str = STORED, trials: tuple = ()) -> None:
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{data_dir() / 'tune.db'}")
    study.set_user_attr(SPEC_ATTR, spec)
    for trial in trials:
        study.add_trial(trial)


def _open(tune, name: str) -> None:
    tune.study_edit.setText(name)  # as picking it from the list does
    tune.open_study(name)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(seeds=10**6), "seeds = 1000000 is not allowed; allowed: an integer from 1 to 100"),
    (lambda d: d.pop("space"), "it lacks space"),
    (lambda d: d["base"].update(env_id="evil:Env-v0"), "'module:Env' ids would make Gymnasium import that module"),
])
def test_a_stored_study_whose_search_is_refused_says_so_in_the_status_line(qtbot, tune, change, message):
    data = json.loads(STORED)
    change(data)
    _store("bad", json.dumps(data))
    before = [box.value() for box in (tune.seeds, tune.budget, tune.eval_every, tune.eval_episodes)]
    _open(tune, "bad")
    qtbot.waitUntil(lambda: not tune.readers, timeout=15_000)
    assert "study 'bad': its stored search is refused" in tune.status.text() and message in tune.status.text()
    assert [box.value() for box in (tune.seeds, tune.budget, tune.eval_every, tune.eval_episodes)] == before
    assert tune.rows == [] and tune.source is None and not tune.use_button.isEnabled()


def test_odd_trial_attributes_are_shown_and_refused_params_say_so_in_the_status_line(qtbot, window, tune):
    """Another version or machine wrote the trials: a note of another type, params the config refuses."""
    odd = optuna.distributions.CategoricalDistribution(["\x1b[2J<b>x</b>" + "y" * 5000])
    _store("odd", trials=(
        optuna.trial.create_trial(value=1.0, user_attrs={"stopped": {"by": ["someone"]}},
                                  system_attrs={"failed_trial": [3]}),
        optuna.trial.create_trial(value=2.0, params={"gamma": odd.choices[0]}, distributions={"gamma": odd})))
    _open(tune, "odd")
    qtbot.waitUntil(lambda: len(tune.rows) == 2, timeout=15_000)
    assert "Study 'odd' (stored): 2 complete" in tune.status.text()
    table = tune.trials_table
    assert table.item(0, 4).text() == "retry of #[3]; {'by': ['someone']}"
    cell = table.item(1, 3)
    assert cell.text().startswith("\\x1b[2J<b>x</b>yyy") and len(cell.text()) < 100
    assert cell.toolTip().startswith("<qt>") and "&lt;b&gt;" in cell.toolTip() and len(cell.toolTip()) < 3000
    began = []
    window.session.began.connect(began.append)
    tune.use_button.click()  # the best trial (score: the highest) has a gamma the config refuses
    assert tune.status.text().startswith("Cannot use trial #1 of study 'odd': gamma = ")
    assert "is not allowed" in tune.status.text() and began == []


def test_a_value_holding_an_unsolved_seeds_penalty_reads_as_unsolved_not_as_steps(qtbot, tune):
    """Objective steps, budget 4,000 per seed: 7,273 is the budget plus a penalty, not 7,273 steps to a solve."""
    spec = make_spec(load_preset("cartpole").with_changes(**CARTPOLE), build_space(["gamma"], [])[0], "steps",
                     seeds=1, budget=4000, eval_every=5, eval_episodes=2).to_json()
    _store("steps", spec, trials=(
        optuna.trial.create_trial(value=7273.0, user_attrs={"seeds": [{"value": 7273.0, "solved_at": None}]}),
        optuna.trial.create_trial(value=2000.0, user_attrs={"seeds": [{"value": 2000.0, "solved_at": 2000}]})))
    _open(tune, "steps")
    qtbot.waitUntil(lambda: len(tune.rows) == 2, timeout=15_000)
    unsolved, solved = tune.trials_table.item(0, 2), tune.trials_table.item(1, 2)
    assert unsolved.text() == "unsolved (7,273 = budget + penalty)" and unsolved.data(0x0100) == 7273.0
    assert "Not a count of steps" in unsolved.toolTip() and "budget of 4,000 steps" in unsolved.toolTip()
    assert solved.text() == "2,000" and "env steps until a greedy check solved" in solved.toolTip()
    assert solved.font().bold()  # the best: the fewest steps


# Run in its own process, watched from outside: a label that loads `<img src=FIFO>` blocks for ever.
HTML_NAME_CHILD = """
import sys
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import QApplication, QLabel
app = QApplication([])
import optuna
from sandbox.core.config import load_preset
from sandbox.io.files import data_dir
from sandbox.tune.search import SPEC_ATTR
from ui.tune.view import TuneView
name, spec = sys.argv[1], sys.argv[2]
optuna.create_study(study_name=name, storage=f"sqlite:///{data_dir() / 'tune.db'}").set_user_attr(SPEC_ATTR, spec)
view = TuneView(lambda: load_preset("cartpole"), lambda config, doing: None)
view.resize(900, 500)
view.show()
view.load_names()
while view.readers:
    QTest.qWait(10)
view.study_box.setCurrentIndex(view.study_box.findText(name))
view.study_box.activated[str].emit(name)
view.grab()  # lays out and paints "Reading study ..."
while view.readers:
    QTest.qWait(10)
view.grab()
print("formats:", sorted({label.textFormat() for label in view.findChildren(QLabel) if name in label.text()}))
print("shown:", view.status.text())
"""


def test_a_study_name_that_looks_like_html_is_shown_as_text_and_opens_nothing(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # Qt opening it as an image would block the GUI thread for ever
    name = f"<img src={fifo}>"
    env = {**os.environ, "RL_SANDBOX_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen"}
    (tmp_path / "data").mkdir()
    try:
        proc = subprocess.run([sys.executable, "-c", HTML_NAME_CHILD, name, STORED], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the Tune view hung on a study name holding <img src=FIFO>: Qt opened the path")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "formats: [0]" in proc.stdout  # Qt.PlainText, every label that shows the name
    assert f"shown: Study '{name}' (stored): 0 complete" in proc.stdout, proc.stdout
