"""Killing a set of processes that may still be forking: the one loop every cleanup path uses."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable


def kill_until_gone(find_pids: Callable[[], Iterable[int]], *, rounds: int, pause: float) -> int:
    """SIGKILL every process ``find_pids`` lists, and again while it lists any (a dying parent may
    fork in between), for at most ``rounds`` rounds ``pause`` seconds apart; returns the kills sent."""
    killed = 0
    for _ in range(max(rounds, 1)):
        pids = list(find_pids())
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(pause)
    return killed
