"""Collapse repeated log records, so an outage does not bury the log (or fill the disk).

While the broker is away, aiokafka logs the same connection error thousands of times a second.
:class:`RepeatThrottle` is a filter for a handler: per (logger, level, message template) it lets
the first record of an interval through, counts the rest, and when the interval is over writes
one summary record — ``repeated N times in the last 10 s: <template>`` — through the same handler.
The summary names the template, never the arguments, so it cannot leak what the records carried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_INTERVAL_SECONDS = 10.0
_SUMMARY_ATTRIBUTE = "parcelwatch_throttle_summary"

_Key = tuple[str, int, str]  # logger name, level, message template


@dataclass
class _Window:
    started: float
    suppressed: int = 0


class RepeatThrottle(logging.Filter):
    def __init__(
        self,
        emit: Callable[[logging.LogRecord], object],
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._emit = emit
        self._interval = interval
        self._clock = clock
        self._windows: dict[_Key, _Window] = {}
        self._lock = threading.Lock()  # executor threads log too

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _SUMMARY_ATTRIBUTE, False):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.started < self._interval:
                window.suppressed += 1
                return False
            self._windows[key] = _Window(started=now)
        if window is not None and window.suppressed:
            self._emit(self._summary(key, window.suppressed))  # before the record that passes
        return True

    def flush(self) -> None:
        """Write the summaries of intervals that are over, and forget their keys.

        Call it periodically: when repeats stop, no later record would trigger their summary.
        """
        now = self._clock()
        with self._lock:
            ended = {
                key: window
                for key, window in self._windows.items()
                if now - window.started >= self._interval
            }
            for key in ended:
                del self._windows[key]
        for key, window in ended.items():
            if window.suppressed:
                self._emit(self._summary(key, window.suppressed))

    def _summary(self, key: _Key, count: int) -> logging.LogRecord:
        name, level, template = key
        record = logging.LogRecord(
            name=name,
            level=level,
            pathname=__file__,
            lineno=0,
            msg="repeated %d times in the last %g s: %s",
            args=(count, self._interval, template),
            exc_info=None,
        )
        setattr(record, _SUMMARY_ATTRIBUTE, True)
        return record


def install(
    logger: logging.Logger,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> list[RepeatThrottle]:
    """Throttle each of ``logger``'s handlers (a handler's filter also sees records propagated
    from child loggers such as aiokafka, faust and mode; a logger's filter would not)."""
    throttles = []
    for handler in logger.handlers:
        if any(isinstance(existing, RepeatThrottle) for existing in handler.filters):
            continue
        throttle = RepeatThrottle(handler.handle, interval, clock)
        handler.addFilter(throttle)
        throttles.append(throttle)
    return throttles
