"""Repeated log records are collapsed: first one through, the rest counted, one summary."""

from __future__ import annotations

import logging

import pytest

from parcelwatch.streams.runtime.log_throttle import RepeatThrottle, install


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(msg: str = 'Unable connect to "%s": %s', *args: object, name: str = "aiokafka",
           level: int = logging.ERROR) -> logging.LogRecord:  # fmt: skip
    args = args or ("127.0.0.1:9092", "refused")
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def summaries() -> list[logging.LogRecord]:
    return []


@pytest.fixture
def throttle(clock: FakeClock, summaries: list[logging.LogRecord]) -> RepeatThrottle:
    return RepeatThrottle(summaries.append, interval=10.0, clock=clock)


def test_first_record_passes_repeats_in_the_interval_are_counted(throttle, clock, summaries):
    assert throttle.filter(record()) is True
    passed = 0
    for _ in range(4600):
        clock.now += 0.002  # 4,600 a second, as measured in the outage
        passed += throttle.filter(record('Unable connect to "%s": %s', "10.0.0.1:9092", "x"))
    assert passed == 0
    assert summaries == []


def test_the_next_interval_starts_with_a_summary_then_the_record(throttle, clock, summaries):
    throttle.filter(record())
    for _ in range(3):
        throttle.filter(record())
    clock.now += 10.0
    assert throttle.filter(record()) is True
    (summary,) = summaries
    assert summary.getMessage() == ('repeated 3 times in the last 10 s: Unable connect to "%s": %s')
    assert (summary.name, summary.levelno) == ("aiokafka", logging.ERROR)
    assert throttle.filter(summary) is True  # a summary is never throttled itself


def test_flush_writes_summaries_of_ended_intervals_when_repeats_stop(throttle, clock, summaries):
    throttle.filter(record())
    throttle.filter(record())
    throttle.filter(record("other %s", 1))
    clock.now += 5
    throttle.flush()
    assert summaries == []  # the interval is not over yet
    clock.now += 5
    throttle.flush()
    assert [s.getMessage() for s in summaries] == [
        'repeated 1 times in the last 10 s: Unable connect to "%s": %s'
    ]
    assert throttle.filter(record()) is True  # a new interval
    assert len(summaries) == 1  # flushed summaries are not repeated


def test_logger_level_and_template_each_have_their_own_interval(throttle):
    assert throttle.filter(record()) is True
    assert throttle.filter(record(name="faust.transport")) is True
    assert throttle.filter(record(level=logging.WARNING)) is True
    assert throttle.filter(record("Heartbeat failed: %s", "x")) is True
    assert throttle.filter(record("Heartbeat failed: %s", "y")) is False  # same template


def test_summaries_name_the_template_never_the_arguments(throttle, clock, summaries):
    throttle.filter(record("payload %r rejected", b"secret customer data"))
    throttle.filter(record("payload %r rejected", b"secret customer data"))
    clock.now += 10
    throttle.flush()
    assert "secret" not in summaries[0].getMessage()


def test_install_throttles_every_root_handler_once_and_sees_child_loggers(clock):
    root = logging.getLogger("throttle-test-root")
    root.propagate = False
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handlers = [ListHandler(), ListHandler()]
    for handler in handlers:
        root.addHandler(handler)
    try:
        assert len(install(root, interval=10.0, clock=clock)) == 2
        assert install(root, interval=10.0, clock=clock) == []  # idempotent
        child = logging.getLogger("throttle-test-root.aiokafka")
        for _ in range(100):
            child.error("Unable connect to %s", "x")
        clock.now += 10
        child.error("Unable connect to %s", "x")
    finally:
        for handler in handlers:
            root.removeHandler(handler)
    # each handler: the first record; at the next interval, the summary of 99 repeats, then it
    first, summary = (
        "Unable connect to x",
        "repeated 99 times in the last 10 s: Unable connect to %s",
    )
    assert lines == [first, first, summary, first, summary, first]


def test_interval_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        RepeatThrottle(print, interval=0)
