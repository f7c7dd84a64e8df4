"""Waiting on another process's state (a file, a study's storage), where no signal exists to wait on."""

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 120.0, what: str = "the state") -> object:
    """Poll `condition` until it is truthy (returned) or `timeout` seconds pass (AssertionError).

    The sleep is the poll interval, not synchronisation: the caller waits for the state itself.
    """
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} did not come within {timeout:g} s"
        time.sleep(0.01)  # the poll interval while another process writes its state (no signal crosses processes)
    return value
