"""Health means progress: liveness and readiness judged from facts, with a fake clock."""

from __future__ import annotations

from parcelwatch.streams.runtime.health import Phase, WorkerHealth

TP = ("t.carrier-scans", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock) -> WorkerHealth:
    return WorkerHealth(clock=clock, stuck_after_seconds=60, recovery_timeout_seconds=300)


def judge(health: WorkerHealth, *, end=10, applied=None, settled=True, rewinding=False):
    return health.judge(
        assigned={TP},
        end_offsets={TP: end},
        positions={TP: applied},
        settled=settled,
        rewinding=rewinding,
    )


def test_a_worker_that_keeps_up_is_alive_and_ready():
    clock = Clock()
    health = make(clock)
    health.applied({TP: 10})
    report = judge(health, end=10)
    assert (report.alive, report.ready, report.phase, report.lag) == (
        True, True, Phase.PROCESSING, 0
    )  # fmt: skip


def test_input_waiting_while_nothing_is_applied_is_stuck():
    clock = Clock()
    health = make(clock)
    health.applied({TP: 4})
    assert judge(health, end=10).alive  # waiting since now
    clock.now += 30
    assert judge(health, end=10).alive
    clock.now += 31
    report = judge(health, end=10)
    assert not report.alive and report.stuck_partitions == ("t.carrier-scans[0]",)
    assert report.lag == 6 and "nothing applied" in report.problems[0]
    health.applied({TP: 5})  # progress again
    assert judge(health, end=10).alive


def test_an_idle_partition_is_not_stuck_when_new_input_arrives():
    clock = Clock()
    health = make(clock)
    health.applied({TP: 10})
    clock.now += 3600  # an hour without traffic
    assert judge(health, end=10).alive
    assert judge(health, end=11).alive  # a new message has just arrived


def test_recovery_is_alive_until_its_timeout_but_never_ready():
    clock = Clock()
    health = make(clock)
    report = judge(health, settled=False, applied=0)
    assert report.alive and not report.ready and report.phase is Phase.RECOVERING
    clock.now += 301
    report = judge(health, settled=False, applied=0)
    assert not report.alive and "recovering" in report.problems[0]


def test_a_long_recovery_does_not_count_as_a_stuck_partition_afterwards():
    clock = Clock()
    health = make(clock)
    health.applied({TP: 2})
    judge(health, end=10, settled=False)
    clock.now += 200
    assert judge(health, end=10, settled=True).alive


def test_rewinding_is_alive_but_not_ready():
    health = make(Clock())
    report = judge(health, end=10, applied=5, rewinding=True)
    assert report.alive and not report.ready and report.phase is Phase.REWINDING


def test_a_dead_agent_is_dead_and_says_why():
    health = make(Clock())
    health.died("agent died: PublishFailed")
    health.died("something later")
    report = judge(health, end=0, applied=0)
    assert not report.alive and report.problems == ("agent died: agent died: PublishFailed",)
    assert report.as_json()["status"] == "dead"


def test_without_partitions_the_worker_is_starting():
    health = make(Clock())
    report = health.judge(
        assigned=set(), end_offsets={}, positions={}, settled=True, rewinding=False
    )
    assert report.alive and not report.ready and report.phase is Phase.STARTING


def test_a_partition_never_fetched_counts_from_the_log_start():
    # What the scale-out chaos caught: after a SIGKILL and restart, Faust never handed over the
    # restarted worker's partitions; with no fetch and no commit they looked caught up (lag 0).
    clock = Clock()
    health = make(clock)
    assert judge(health, end=248, applied=0).lag == 248
    clock.now += 61
    assert not judge(health, end=248, applied=0).alive


def test_a_partition_no_batch_came_from_is_judged_from_the_ledgers_stored_offset():
    # The group committed offset 10 (e.g. messages skipped in a rebalance were committed), but
    # the ledger's store says 4 is the next to apply: input waits, although no batch came.
    clock = Clock()
    health = make(clock)
    assert judge(health, end=10, applied=10).lag == 0  # the committed offset alone hides it
    health.known({TP: 4})
    assert judge(health, end=10, applied=10).lag == 6
    clock.now += 61
    report = judge(health, end=10, applied=10)
    assert not report.alive and report.stuck_partitions == ("t.carrier-scans[0]",)
    assert report.seconds_since_progress is None  # knowing an offset is not progress


def test_a_partition_another_worker_moved_on_is_not_judged_from_a_stale_offset():
    clock = Clock()
    health = make(clock)
    health.applied({TP: 4})  # then the partition went to another worker, which applied to 10
    clock.now += 61
    health.known({TP: 10})  # back again: the ledger read the store the other worker wrote
    report = judge(health, end=10)
    assert report.alive and report.lag == 0
