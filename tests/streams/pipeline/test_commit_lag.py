from parcelwatch.streams.pipeline.commit_lag import CommitLag

SCANS_0 = ("carrier-scans", 0)
SCANS_1 = ("carrier-scans", 1)


def test_a_group_offset_behind_the_applied_one_on_two_looks_is_due():
    lag = CommitLag()
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1) == {}
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1) == {SCANS_0: 755}


def test_a_partition_never_committed_is_due_too():
    lag = CommitLag()
    lag.due({SCANS_0: None}, {SCANS_0: 12}, generation=1)
    assert lag.due({SCANS_0: None}, {SCANS_0: 12}, generation=1) == {SCANS_0: 12}


def test_a_partition_being_worked_on_is_left_to_faust():
    """Faust commits as it goes: between two looks either number moves."""
    lag = CommitLag()
    looks = [({SCANS_0: 100}, {SCANS_0: 300}), ({SCANS_0: 300}, {SCANS_0: 500}),
             ({SCANS_0: 300}, {SCANS_0: 700}), ({SCANS_0: 700}, {SCANS_0: 700})]  # fmt: skip
    assert [lag.due(group, applied, generation=1) for group, applied in looks] == [{}] * 4


def test_caught_up_or_ahead_is_never_due():
    lag = CommitLag()
    group, applied = {SCANS_0: 755, SCANS_1: 900}, {SCANS_0: 755, SCANS_1: 800}
    for _ in range(3):
        assert lag.due(group, applied, generation=1) == {}


def test_only_assigned_partitions_are_committed():
    """A partition the ledger knows but the group's answer lacks is not this worker's now."""
    lag = CommitLag()
    for _ in range(2):
        due = lag.due({SCANS_0: 1}, {SCANS_0: 5, SCANS_1: 9}, generation=1)
    assert due == {SCANS_0: 5}


def test_a_rebalance_between_the_looks_starts_over():
    lag = CommitLag()
    lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1)
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=2) == {}
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=2) == {SCANS_0: 755}


def test_a_failed_repair_is_due_again_after_two_more_looks():
    lag = CommitLag()
    lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1)
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1) == {SCANS_0: 755}
    # the commit failed: the group still says 100
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1) == {}
    assert lag.due({SCANS_0: 100}, {SCANS_0: 755}, generation=1) == {SCANS_0: 755}
