"""Hyperparameter search (`sandbox/tune/search.py`, `tune` / `tune show`): the space, bad input, reproducibility,
worker processes, retries of a killed worker, pruning, export, and a real PostgreSQL study.

Budgets are tiny (CartPole, a thousand env steps per seed, 2 seeds, 2 trials): these tests check the
machinery, not what it finds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest

import main
from sandbox.core.config import FIELDS, Config, load_config_file, load_preset
from sandbox.tune.search import SPEC_ATTR, Objective, TuneSpec, make_spec
from sandbox.tune.space import DEFAULT_PARAMS, build_space, default_dist, tunable
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
# A trial of a few seconds: CartPole, learning from step 100, greedy checks of 3 episodes every 10.
TINY = ["--preset", "cartpole", "--objective", "score", "--params", "learning_rate,gamma", "--set",
        "learning_starts=100", "--set", "memory_capacity=2000", "--budget", "1000", "--eval-every", "10",
        "--eval-episodes", "3", "--seeds", "2", "--trials", "2"]


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=url).get_trials()


# --- the space -----------------------------------------------------------------------------
def test_default_space_follows_the_config_metadata():
    space, fixed = build_space(None, [])
    assert list(space) == list(DEFAULT_PARAMS) and fixed == {}
    lr = space["learning_rate"]
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-4, 1e-3, True)  # recommended "1e-4 – 1e-3"
    assert (space["batch_size"].kind, space["batch_size"].low, space["batch_size"].high) == ("int", 64, 256)
    assert space["gamma"].log is False and (space["gamma"].low, space["gamma"].high) == (0.95, 0.999)
    assert (space["memory_capacity"].low, space["memory_capacity"].high) == (10_000, 100_000)
    assert space["loss"].kind == "categorical" and space["loss"].choices == FIELDS["loss"].metadata["choices"]
    assert default_dist("double_dqn").choices == (False, True)
    for name in tunable():  # every default range lies inside what the field allows
        d = default_dist(name)
        m = FIELDS[name].metadata
        if d.kind != "categorical":
            assert m["low"] <= d.low <= d.high <= m["high"], name
            assert d.kind == ("int" if FIELDS[name].type == "int" else "float")
    assert not {"env_id", "seed", "device", "max_episodes"} & set(tunable())


def test_set_narrows_picks_and_fixes():
    space, fixed = build_space(["learning_rate", "gamma", "memory_capacity"],
                               ["learning_rate=2e-4..5e-4", "loss=huber,mse", "memory_capacity=5000",
                                "tau=0.001..0.01", "double_dqn=true,false"])
    assert (space["learning_rate"].low, space["learning_rate"].high) == (2e-4, 5e-4)
    assert space["learning_rate"].log is False  # a span under 10x is searched linearly
    assert space["loss"].choices == ("huber", "mse") and space["double_dqn"].choices == (True, False)
    assert space["tau"].log is True and "memory_capacity" not in space and fixed == {"memory_capacity": 5000}


@pytest.mark.parametrize(("args", "message"), [
    (["--params", "colour"], "--params: unknown parameter 'colour'"),
    (["--params", "seed"], "--params: seed cannot be tuned"),
    (["--set", "env_id=a,b"], "--set: env_id cannot be tuned"),
    (["--set", "seed=1..5"], "--set: seed cannot be tuned"),
    (["--set", "gamma=0.99..0.9"], "--set gamma='0.99..0.9' is reversed"),
    (["--set", "learning_rate=1e-9..1e-3"], "is outside the field's range; allowed: a number from 1e-07 to 1"),
    (["--set", "batch_size=1.5..8"], "the range must be two values, each an integer"),
    (["--set", "loss=mse,l1"], "'l1' is not allowed; allowed: one of 'mse', 'huber'"),
    (["--set", "loss=0..1"], "loss takes choices (a,b), not a range"),
    (["--set", "max_episodes=500"], "--set max_episodes: tune does not use it: trials run to --budget"),
    (["--set", "stop_when_solved=false"], "--set stop_when_solved: tune does not use it"),
    (["--set", "solve_rule=training_mean"], "--set solve_rule: tune does not use it"),
    (["--set", "eval_every=5"], "--set eval_every: tune does not use it: give --eval-every instead"),
    (["--set", "eval_episodes=5"], "--set eval_episodes: tune does not use it: give --eval-episodes instead"),
    (["--storage", "nosuch://x"], "--storage 'nosuch://x': cannot open"),
    (["--storage", "not a url"], "is not a database URL"),
    (["--storage", "sqlite:////no/such/folder/t.db"], "does not exist"),
    (["--storage", "postgresql+psycopg://u:secret@127.0.0.1:1/db"], "cannot open"),
    (["--export-best", "best.json"], "must end in .toml"),
    (["--seeds", "0"], "--seeds: '0' is not allowed"),
    (["--preset", "nope"], "unknown preset 'nope'"),
])
def test_bad_tune_arguments_are_one_line_and_exit_2(args, message, capsys, tmp_path):
    argv = ["tune", *args]
    if "--storage" not in args:
        argv += ["--storage", _url(tmp_path / "t.db")]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "secret" not in err


def test_show_of_a_missing_study_is_one_line(capsys, tmp_path):
    url = _url(tmp_path / "t.db")
    assert main.main(["tune", "show", "--study", "nope", "--storage", url]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: no study 'nope' in this storage; studies: none"


# --- studies ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """A finished 2-trial study (TPE seed 7, --jobs 1), run through the CLI."""
    url = _url(tmp_path_factory.mktemp("tune") / "a.db")
    assert main.main(["tune", *TINY, "--seed", "7", "--study", "a", "--storage", url]) == 0
    return url


def test_a_seeded_study_is_reproducible(tiny_study, tmp_path, capsys):
    again = _url(tmp_path / "b.db")
    assert main.main(["tune", *TINY, "--seed", "7", "--study", "a", "--storage", again]) == 0
    out = capsys.readouterr().out
    assert "best trials (2 complete)" in out
    first, second = _trials(tiny_study, "a"), _trials(again, "a")
    assert [t.params for t in first] == [t.params for t in second]
    assert [t.value for t in first] == [t.value for t in second]
    assert [t.intermediate_values for t in first] == [t.intermediate_values for t in second]
    assert first[0].params != first[1].params
    for t in first:  # two seeds per trial, scored by their median
        seeds = t.user_attrs["seeds"]
        assert [s["seed"] for s in seeds] == [1, 2] and all(s["steps"] == 1000 for s in seeds)
        assert t.value == pytest.approx(sum(s["value"] for s in seeds) / 2)
        assert t.user_attrs["worker_pid"] == os.getpid()


def test_a_continued_study_and_a_new_one_explore_new_points(tmp_path, capsys):
    """Seeded alike, a continued study repeated its first trials' params and a new name drew the same
    ones (found by driving the Tune view): the seed is mixed with the name and the trials held."""
    url = _url(tmp_path / "n.db")
    args = ["tune", *TINY, "--seed", "7", "--storage", url, "--sampler", "random"]
    assert main.main([*args, "--study", "n", "--trials", "2"]) == 0
    assert main.main([*args, "--study", "n", "--trials", "4"]) == 0
    assert main.main([*args, "--study", "m", "--trials", "2"]) == 0
    params = [tuple(t.params.values()) for name in ("n", "m") for t in _trials(url, name)]
    assert len(params) == 6 and len(set(params)) == 6


def test_a_study_rerun_continues_and_refuses_another_search(tiny_study, capsys):
    assert main.main(["tune", "--study", "a", "--storage", tiny_study, "--trials", "2"]) == 0  # joins: nothing left
    assert "joined, 2 finished trials" in capsys.readouterr().out
    assert len(_trials(tiny_study, "a")) == 2
    assert main.main(["tune", "--study", "a", "--storage", tiny_study, "--params", "gamma"]) == 2
    assert "already searches something else" in capsys.readouterr().err


def test_show_prints_trials_and_importances_and_exports_the_best(tiny_study, tmp_path, capsys):
    best = tmp_path / "best.toml"
    assert main.main(["tune", "show", "--study", "a", "--storage", tiny_study, "--export-best", str(best)]) == 0
    out = capsys.readouterr().out
    assert "trials (2 complete)" in out and "learning_rate=" in out and "gamma=" in out
    assert "parameter importances" in out and "need at least" not in out
    study = optuna.load_study(study_name="a", storage=tiny_study)
    spec = TuneSpec.from_json(study.user_attrs[SPEC_ATTR])
    loaded = load_config_file(best)
    assert loaded == spec.config_for(study.best_trial.params)
    assert loaded.env_id == "CartPole-v1" and loaded.learning_starts == 100
    assert main.main(["train", "--config", str(best), "--episodes", "1", "--eval-episodes", "0", "--quiet"]) == 0


def test_two_jobs_are_two_processes_reporting_into_one_sqlite_study(tmp_path, capsys):
    url = _url(tmp_path / "j.db")
    assert main.main(["tune", *TINY, "--study", "j", "--storage", url, "--jobs", "2"]) == 0
    trials = _trials(url, "j")
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    pids = {t.user_attrs["worker_pid"] for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {t.user_attrs["worker"] for t in trials} == {0, 1}


def test_a_killed_workers_trial_is_retried(tmp_path, capsys):
    url = _url(tmp_path / "k.db")
    args = ["tune", "--preset", "fast", "--params", "learning_rate", "--budget", "3000",
            "--seeds", "1", "--eval-every", "5", "--eval-episodes", "2", "--trials", "1", "--study", "k",
            "--storage", url, "--heartbeat", "1"]
    proc = subprocess.Popen([sys.executable, "main.py", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        def trial_running() -> bool:  # the trial RUNNING with its params drawn: then its worker is killed outright
            assert proc.poll() is None, "the worker ended before its trial was seen running"
            try:
                return any(t.state.name == "RUNNING" and t.params for t in _trials(url, "k"))
            except (KeyError, optuna.exceptions.StorageInternalError):
                return False

        wait_for(trial_running, what="a RUNNING trial")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert main.main(args) == 0  # the same command again: the dead worker's trial goes stale, then is retried
    trials = _trials(url, "k")
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert trials[0].user_attrs["worker_pid"] == proc.pid
    assert trials[1].system_attrs["failed_trial"] == 0 and trials[1].params == trials[0].params
    assert trials[1].user_attrs["worker_pid"] == os.getpid()
    from sandbox.tune.results import trial_rows
    from sandbox.tune.search import open_storage

    rows = trial_rows(open_storage(url), "k", "steps")  # a value of 3,000+ steps must not read as a solve
    assert rows[1].note == "retry of #0; 1/1 seeds unsolved (each: budget + penalty)"


def test_a_trial_whose_worker_died_before_claiming_it_does_not_hold_the_study_for_ever(tmp_path, capsys):
    """Killed between Optuna creating its trial and the first heartbeat, a worker leaves a RUNNING trial
    that never goes stale; without the unclaimed rule the next worker waits on it until --timeout."""
    url = _url(tmp_path / "u.db")
    args = ["tune", *TINY, "--study", "u", "--storage", url, "--heartbeat", "1"]
    assert main.main([*args, "--trials", "1"]) == 0
    optuna.load_study(study_name="u", storage=url).ask()  # RUNNING, no params, no heartbeat, no worker
    assert main.main([*args, "--trials", "2", "--timeout", "60"]) == 0
    trials = _trials(url, "u")
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE"]


def test_only_trials_seen_unclaimed_for_the_grace_period_are_failed(tmp_path):
    from sandbox.tune.workers import UnclaimedTrials

    study = optuna.create_study(storage=_url(tmp_path / "c.db"), study_name="c")
    claimed, _unclaimed, retried, older = (study.ask() for _ in range(4))
    claimed.set_user_attr("claimed", claimed.number)
    retried.set_user_attr("claimed", 99)  # a retry copies the attributes of the trial it repeats
    older.set_user_attr("worker_pid", 1)  # claimed the way an earlier version did
    watcher = UnclaimedTrials(grace=0.0)
    watcher.fail_old(study)  # first seen now: none is failed yet, whatever its start time says
    assert [t.state.name for t in study.get_trials()] == ["RUNNING"] * 4
    watcher.fail_old(study)
    assert [t.state.name for t in study.get_trials()] == ["RUNNING", "FAIL", "FAIL", "RUNNING"]
    watcher.fail_old(study)  # nothing left to fail, nothing raised
    assert watcher.seen == {}


def test_the_trials_table_reads_odd_attributes_without_raising(tmp_path):
    """Other versions and machines write the storage the table polls: one odd trial must not blank it."""
    from sandbox.tune.results import trial_rows
    from sandbox.tune.search import open_storage

    url = _url(tmp_path / "o.db")
    study = optuna.create_study(storage=url, study_name="o")
    for seeds in (None, "x", {"a": 1}, [1, {"solved_at": None}], [{"solved_at": 500}], []):
        study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"seeds": seeds}))
    notes = [r.note for r in trial_rows(open_storage(url), "o", "steps")]
    assert notes == ["", "", "", "2/2 seeds unsolved (each: budget + penalty)", "", ""]


@pytest.mark.parametrize(("budget", "state"), [(1000, "PRUNED"), (30, "COMPLETE")])
def test_the_pruner_stops_a_hopeless_trial_but_not_a_finished_one(budget, state):
    """At 30 steps the first report is the last (the budget is spent): a fully trained trial keeps its value."""
    spec = make_spec(load_preset("cartpole").with_changes(learning_starts=100, memory_capacity=2000),
                     build_space(["learning_rate"], [])[0], "score", seeds=2, budget=budget, eval_every=5,
                     eval_episodes=2)
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    dist = optuna.distributions.FloatDistribution(1e-4, 1e-3, log=True)
    study.add_trial(optuna.trial.create_trial(params={"learning_rate": 5e-4}, distributions={"learning_rate": dist},
                                              value=500.0, intermediate_values={5: 500.0, 10: 500.0}))
    study.optimize(Objective(spec), n_trials=1)
    trial = study.trials[-1]
    assert trial.state.name == state and list(trial.intermediate_values) == [5]  # its first report decided


def test_the_pruner_tells_unsolved_mountaincar_trials_apart_by_their_progress():
    """Greedy means stay at -200 until the first solve, so two unsolved trials end with the same value;
    what the pruner sees tells the learning one from the one that does not learn."""
    from sandbox.tune.search import run_trial

    finals, reports = [], []
    for rate in (1e-3, 1e-5):  # the notebook's own rate, and one far too small to learn in this budget
        config = load_preset("notebook").with_changes(learning_rate=rate)
        spec = make_spec(config, {}, "steps", seeds=1, budget=16_000, eval_every=20, eval_episodes=5)
        seen = []
        value, seeds = run_trial(config, spec, lambda step, v, final, seen=seen: seen.append(v))
        assert seeds[0]["solved_at"] is None and seeds[0]["best_greedy_mean"] == -200.0
        finals.append(value)
        reports.append(seen)
    assert finals[0] == finals[1]
    assert reports[0][-1] < reports[1][-1] == reports[1][0]  # fewer expected steps: the learning trial is ahead


def test_steps_objective_penalises_unsolved_runs():
    from sandbox.tune.search import run_trial, unsolved_value

    spec = make_spec(load_preset("fast"), build_space(["gamma"], [])[0], "steps", seeds=1, budget=400,
                     eval_every=1, eval_episodes=1)
    reports = []
    value, seeds = run_trial(Config.from_dict(spec.base), spec,
                             lambda step, v, final: reports.append((step, v, final)))
    assert [(s, final) for s, _, final in reports] == [(1, False), (2, True)]  # two 200-step episodes
    assert value == unsolved_value(400, seeds[0]["best_greedy_mean"], -110.0) > 400
    assert unsolved_value(400, -110.0, -110.0) == 400 and unsolved_value(400, -1e9, -110.0) == 800


# --- PostgreSQL ----------------------------------------------------------------------------------
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL 15 server on a free local port (initdb and pg_ctl run as `postgres` when root)."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL 15 server binaries not installed ({PG_BIN}/initdb, pg_ctl): apt-get install "
                    "postgresql-15")
    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[test]')")
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="rl-sandbox-pg-"))
    if os.geteuid() == 0:  # initdb and the server refuse root
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    try:
        subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, timeout=120)
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE tune")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/tune"
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def test_two_workers_share_a_postgresql_study(postgres, capsys):
    assert main.main(["tune", *TINY, "--study", "pg", "--storage", postgres, "--jobs", "2"]) == 0
    trials = _trials(postgres, "pg")
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert len({t.user_attrs["worker_pid"] for t in trials}) == 2
    assert main.main(["tune", "show", "--study", "pg", "--storage", postgres]) == 0
    assert "trials (2 complete)" in capsys.readouterr().out


def test_every_tunable_number_has_a_search_range_as_numbers_inside_its_bounds():
    """The default search comes from typed metadata (`tune=(low, high)`), never from the help text: the
    notebook's 5 in update_interval's advice once made it search 1..5."""
    from sandbox.core.config import FIELDS
    from sandbox.tune.space import default_dist, tunable

    for name in tunable():
        f = FIELDS[name]
        if f.metadata["choices"] or f.type == "bool":
            assert f.metadata["tune"] is None, name
            continue
        low, high = f.metadata["tune"]
        assert f.metadata["low"] <= low < high <= f.metadata["high"], name
        dist = default_dist(name)
        assert (dist.low, dist.high) == (low, high), name
    assert (default_dist("update_interval").low, default_dist("update_interval").high) == (1, 16)


# --- how trials read (issue 21 item 8): a penalty is no count of steps, a Stop is no failure ------------
def _steps_study(url: str) -> None:
    """A `steps` study (budget 4,000 per seed) holding every way a trial can read."""
    spec = make_spec(load_preset("cartpole"), build_space(["gamma"], [])[0], "steps", seeds=3, budget=4000)
    study = optuna.create_study(storage=url, study_name="s")
    study.set_user_attr(SPEC_ATTR, spec.to_json())

    def seed(value: float, solved: bool) -> dict:
        return {"seed": 0, "steps": 4000, "value": value, "solved_at": int(value) if solved else None, "done": True}

    for value, seeds in ((7273.0, [seed(7273, False), seed(7500, False), seed(6000, False)]),
                         (2550.0, [seed(1000, True), seed(4100, False)]),  # the mean of a solve and a penalty
                         (2000.0, [seed(1500, True), seed(2000, True), seed(5000, False)]),  # a real solve count
                         (7000.0, None)):  # written by a version that kept no seeds: above the budget
        study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"seeds": seeds} if seeds else {}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              user_attrs={"stopped": "stopped from the app"}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    running = study.ask()
    running.set_user_attr("seeds", [{"steps": 4000, "done": True}, {"steps": 2400, "done": False}, {"steps": 0}])


def test_a_value_holding_a_penalty_never_reads_as_steps_and_a_stopped_trial_is_not_failed(tmp_path, capsys):
    from sandbox.tune.results import trial_rows
    from sandbox.tune.search import open_storage

    url = _url(tmp_path / "s.db")
    _steps_study(url)
    rows = trial_rows(open_storage(url), "s", "steps", 4000)
    assert [r.unsolved for r in rows] == ["unsolved", "part unsolved", "", "unsolved", "", "", ""]
    assert [r.state for r in rows] == ["complete"] * 4 + ["stopped", "failed", "running"]
    assert [r.progress for r in rows] == [""] * 6 + ["1/3 seeds done, 6,400 steps"]
    assert main.main(["tune", "show", "--study", "s", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "1 failed, 1 running, 1 stopped" in out
    lines = [row.split(None, 2) for row in out.splitlines() if row.split()[:1] != ["#"] and row.startswith("     ")]
    assert [(n, state) for n, state, _ in lines] == [(str(i), s) for i, s in enumerate(
        ["complete"] * 4 + ["stopped", "failed", "running"])]
    assert lines[0][2].startswith("unsolved (7273 = budget + penalty)")
    assert lines[1][2].startswith("part unsolved (2550 incl. penalty)")
    assert lines[2][2].startswith("2000 ") and lines[3][2].startswith("unsolved (7000 = budget + penalty)")
    assert lines[6][2].startswith("- ") and "1/3 seeds done, 6,400 steps" in lines[6][2]


def test_a_running_trial_records_its_seeds_after_every_greedy_check():
    """What the Tune table shows of a trial still running: its seeds' steps and which are done, as it goes."""
    from sandbox.tune.search import run_trial

    spec = make_spec(load_preset("fast"), build_space(["gamma"], [])[0], "steps", seeds=2, budget=400,
                     eval_every=1, eval_episodes=1)
    records: list[list[dict]] = []
    run_trial(Config.from_dict(spec.base), spec, lambda step, v, final: None, records.append)
    steps = [[s["steps"] for s in seeds] for seeds in records]
    assert steps[0] == [0, 0] and steps[-1] == [400, 400] and [200, 0] in steps and [200, 200] in steps
    assert [s["done"] for s in records[-1]] == [True, True] and not any(s["done"] for s in records[1])


# --- the re-check on unseen seeds and the progress pruner --------------------------------------
def _recheck_spec():
    base = load_preset("cartpole").with_changes(learning_starts=50, memory_capacity=500)
    return make_spec(base, build_space(["learning_rate"], [])[0], "score", seeds=2, budget=300, eval_every=5,
                     eval_episodes=2)


def test_the_recheck_runs_exactly_the_top_3_on_unseen_seeds_and_names_the_best_there(tmp_path, capsys):
    """Five stored trials; the top 3 by value train again on 5 seeds that no trial trained (one trial
    recorded a seed where the fresh ones would start: it is skipped), and the best is the best there."""
    from sandbox.tune.recheck import RECHECK_ATTR, SEED_OFFSET, read_recheck, run_recheck, trained_seeds
    from sandbox.tune.results import named_best
    from sandbox.tune.search import trial_seeds

    spec = _recheck_spec()
    url = _url(tmp_path / "r.db")
    study = optuna.create_study(storage=url, study_name="r", direction="maximize")
    study.set_user_attr(SPEC_ATTR, spec.to_json())
    dist = optuna.distributions.FloatDistribution(1e-4, 1e-3, log=True)
    first_fresh = spec.base["seed"] + SEED_OFFSET
    for i, (rate, value) in enumerate([(1e-4, 30.0), (2e-4, 50.0), (4e-4, 40.0), (8e-4, 10.0), (1e-3, 45.0)]):
        seeds = [{"seed": first_fresh if i == 3 else 7 + i, "solved_at": None}]
        study.add_trial(optuna.trial.create_trial(params={"learning_rate": rate}, distributions={"learning_rate": dist},
                                                  value=value, user_attrs={"seeds": seeds}))
    main.main(["tune", "show", "--study", "r", "--storage", url])
    assert "best: trial #1 (value 50; not re-checked on unseen seeds)" in capsys.readouterr().out

    recheck = run_recheck(study, spec, jobs=1)
    assert recheck is not None
    assert [r.number for r in recheck.trials] == [1, 4, 2]  # exactly the top 3 by value
    used = {s["seed"] for r in recheck.trials for s in r.seeds}
    assert len(recheck.seeds) == 5 and used == set(recheck.seeds)
    trained = trained_seeds(study, spec)
    assert set(trial_seeds(Config.from_dict(spec.base), spec)) | {7, 8, 9, first_fresh, 11} <= trained
    assert not used & trained and first_fresh not in used
    best = max(recheck.trials, key=lambda r: (r.value, r.study_value))
    assert recheck.best == best and named_best(study).number == best.number
    assert RECHECK_ATTR in study.user_attrs and read_recheck(study) == recheck  # stored, read back alike
    again = run_recheck(study, spec, jobs=1)  # the same seeds: nothing is run again, the same best
    assert again == recheck and list(again.seeds) == list(recheck.seeds)

    export = tmp_path / "best.toml"
    main.main(["tune", "show", "--study", "r", "--storage", url, "--export-best", str(export)])
    out = capsys.readouterr().out
    assert f"best: trial #{best.number}, re-checked on 5 unseen seeds: value {best.value:g}" in out
    assert load_config_file(export).learning_rate == study.trials[best.number].params["learning_rate"]


def test_the_cli_rechecks_before_it_names_its_best(tmp_path, capsys):
    url = _url(tmp_path / "c.db")
    assert main.main(["tune", "--study", "c", "--storage", url, *TINY, "--trials", "3", "--recheck", "2",
                      "--pruner", "none"]) == 0
    out = capsys.readouterr().out
    assert "re-checking the best 2 trials on 5 unseen seeds" in out
    assert "re-checked on 5 unseen seeds" in out and "not re-checked" not in out


def test_the_progress_pruner_prunes_a_mountaincar_trial_clearly_behind(tmp_path):
    """Unsolved MountainCar trials all have the same value; the progress pruner ranks them second by how high
    their greedy policy swings. Three stored trials that swung close to the flag (progress 0.9) at their
    first check: a real trial of a few thousand steps, unsolved like them, swings lower and is pruned at its
    first check, while Optuna's median pruner, seeing only equal values, keeps it."""
    from sandbox.tune.pruners import PRUNING_ATTR, progress_pruner
    from sandbox.tune.search import unsolved_value

    base = load_preset("notebook")
    spec = make_spec(base, build_space(["learning_rate"], [])[0], "steps", seeds=1, budget=3_000, eval_every=5,
                     eval_episodes=1)
    same = unsolved_value(3_000, -200.0, -110.0)  # every unsolved trial's value here
    dist = optuna.distributions.FloatDistribution(1e-4, 1e-3, log=True)
    kept = {}
    for name, pruner in (("progress", progress_pruner()), ("median", optuna.pruners.MedianPruner(3, 0))):
        study = optuna.create_study(storage=_url(tmp_path / f"{name}.db"), study_name=name, pruner=pruner)
        for _ in range(3):
            study.add_trial(optuna.trial.create_trial(
                params={"learning_rate": 1e-3}, distributions={"learning_rate": dist}, value=same,
                intermediate_values={5: same, 10: same}, user_attrs={PRUNING_ATTR: {"5": [same, 0.9],
                                                                                  "10": [same, 0.9]}}))
        study.optimize(Objective(spec), n_trials=1)
        trial = study.get_trials()[-1]
        kept[name] = trial.state.name
        value, progress = trial.user_attrs[PRUNING_ATTR]["5"]
        assert value == same and progress < 0.9
    assert kept == {"progress": "PRUNED", "median": "COMPLETE"}
