import main
from ui.app import display_problem


def test_without_a_display_the_app_says_so_instead_of_crashing(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "DISPLAY is not set" in display_problem()
    assert main.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the RL Sandbox window") and "train|evaluate|screenshot" in err


def test_offscreen_needs_no_display(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert display_problem() is None
