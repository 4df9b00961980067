"""A background thread that runs one round of work when poked, or every ``interval``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from portal import metrics

log = logging.getLogger("portal.worker")


class RoundWorker:
    """Runs ``work()`` after each ``poke()`` and at least every ``interval`` seconds.

    Used for what must happen after a commit but never inside a request: the
    mail outbox and the audit checkpoint witness. A failing round is logged
    and the next one tries again, so a database hiccup never kills the thread.
    """

    def __init__(self, name: str, work: Callable[[], object], interval: float,
                 stop_timeout: float = 10.0) -> None:
        self._work = work
        self._interval = interval
        self._stop_timeout = stop_timeout
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._stop_timeout)

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stopping:
                break
            try:
                self._work()
            except Exception:  # the loop must survive a database hiccup
                log.exception("%s round failed", self._thread.name)
                metrics.round_failed(self._thread.name)
