"""The input ledger: which offsets are applied, skipped, rewound; pure, with a dict as the table."""

from __future__ import annotations

from parcelwatch.streams.pipeline.input_ledger import (
    InputLedger,
    Position,
    Probe,
    Rewind,
    Verdict,
    is_ledger_key,
    ledger_key,
)

A, B = "t.carrier-scans", "t.orders"


class DictLedgerStore:
    def __init__(self) -> None:
        self.data: dict[str, dict] = {}
        self.writes: list[tuple[int, int]] = []  # (partition, focused message index)

    def read(self, partition: int, index: int) -> dict | None:
        return self.data.get(ledger_key(partition))

    def write(self, partition: int, index: int, value: dict) -> None:
        self.writes.append((partition, index))
        self.data[ledger_key(partition)] = value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(store: DictLedgerStore | None = None, clock: Clock | None = None) -> InputLedger:
    return InputLedger(store or DictLedgerStore(), clock=clock or Clock(), rewind_retry_seconds=2)


def batch(*offsets: int, topic: str = A, partition: int = 0) -> list[Position]:
    return [Position(topic, partition, offset) for offset in offsets]


def admit(ledger: InputLedger, messages, *, generation=1, settled=True, assigned=lambda tp: True):
    return ledger.admit(messages, generation=generation, settled=settled, assigned=assigned)


def apply(ledger: InputLedger, messages, **kwargs):
    admission = admit(ledger, messages, **kwargs)
    ledger.record(messages, admission)
    return admission


def at(offsets: dict[str, int], clock: Clock | None = None) -> InputLedger:
    """A ledger whose partition 0 has applied up to ``offsets`` (topic -> next offset)."""
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": offsets}
    return make(store, clock)


def test_a_partition_without_a_ledger_starts_at_the_log_start_not_at_the_first_message_seen():
    # What the two-worker benchmark caught: while the group rebalanced, one worker fetched and
    # skipped offsets 0..30 and Faust committed 31; the new owner's first message was 31.
    store = DictLedgerStore()
    ledger = make(store)
    admission = apply(ledger, batch(31, 32))
    assert admission.verdicts == [Verdict.SKIPPED_UNSTARTED] * 2
    assert admission.probes == [Probe(A, 0, 0, start=True)]  # one, however many messages
    assert ledger.rewinding() == [(A, 0)]
    assert store.writes == []  # nothing stored: a crash now asks the log again
    assert ledger.probed(Probe(A, 0, 0, start=True), 0) == ([Rewind(A, 0, 0)], 0)
    # Messages fetched before the seek wait; then the log from its start is applied.
    assert admit(ledger, batch(33)).verdicts == [Verdict.SKIPPED_STALE]
    admission = apply(ledger, batch(0, 1))
    assert admission.verdicts == [Verdict.APPLY] * 2
    assert store.data == {ledger_key(0): {"next_offsets": {A: 2}}}
    assert store.writes == [(0, 1)]  # once per batch, focused on its last applied message
    assert ledger.rewinding() == []


def test_a_start_asked_before_judging_skips_nothing():
    store = DictLedgerStore()
    store.data[ledger_key(1)] = {"next_offsets": {A: 5}}
    ledger = make(store)
    messages = [*batch(0, 1), *batch(3, topic=B), *batch(5, partition=1)]
    probes = ledger.starts_to_ask(messages, generation=1, settled=True, assigned=lambda tp: True)
    assert probes == [Probe(A, 0, 0, start=True), Probe(B, 0, 0, start=True)]  # 1 has a ledger
    assert ledger.probed(probes[0], 0) == ([], 0)  # nothing was skipped: nothing to rewind
    assert ledger.probed(probes[1], 2) == ([], 0)
    admission = apply(ledger, messages)
    # B's log starts at 2, so 3 reveals a gap: rewound like any other.
    assert admission.verdicts == [Verdict.APPLY] * 2 + [Verdict.SKIPPED_GAP, Verdict.APPLY]
    assert admission.rewinds == [Rewind(B, 0, 2)]
    # Not while rebalancing, nor for partitions of another worker.
    assert (
        make().starts_to_ask(messages, generation=1, settled=False, assigned=lambda tp: True) == []
    )
    assert (
        make().starts_to_ask(messages, generation=1, settled=True, assigned=lambda tp: False) == []
    )


def test_a_start_asked_before_judging_and_unanswered_is_asked_again():
    clock = Clock()
    ledger = make(clock=clock)
    probes = ledger.starts_to_ask(batch(4), generation=1, settled=True, assigned=lambda tp: True)
    assert ledger.probed(probes[0], None) == ([], 0)
    assert admit(ledger, batch(4)).verdicts == [Verdict.SKIPPED_UNSTARTED]
    clock.now += 3
    assert ledger.unanswered_starts() == probes
    assert ledger.probed(probes[0], 0) == ([Rewind(A, 0, 0)], 0)  # 4 was skipped: go back


def test_a_log_that_starts_later_is_started_where_it_starts():
    ledger = make()
    admit(ledger, batch(7))
    # Retention removed 0..6: the first message seen was the log's first.
    assert ledger.probed(Probe(A, 0, 0, start=True), 7) == ([Rewind(A, 0, 7)], 0)
    assert apply(ledger, batch(7, 8)).verdicts == [Verdict.APPLY] * 2


def test_a_start_probe_without_an_answer_is_asked_again():
    clock = Clock()
    ledger = make(clock=clock)
    probe = Probe(A, 0, 0, start=True)
    assert admit(ledger, batch(5)).probes == [probe]
    assert ledger.probed(probe, None) == ([], 0)
    assert admit(ledger, batch(6)).probes == []  # asked just now
    assert ledger.unanswered_starts() == []
    clock.now += 3
    # No later message may come (the partition's tail): the timer asks again.
    assert ledger.unanswered_starts() == [probe]
    assert ledger.probed(probe, 0) == ([Rewind(A, 0, 0)], 0)
    assert ledger.unanswered_starts() == []
    assert ledger.probed(probe, 0) == ([], 0)  # a second answer is moot


def test_while_one_topic_of_a_partition_starts_the_others_wait_for_it():
    ledger = at({A: 4})
    admission = admit(ledger, batch(9, topic=B) + batch(4, topic=A))
    assert admission.verdicts == [Verdict.SKIPPED_UNSTARTED, Verdict.SKIPPED_HELD]
    assert admission.rewinds == [Rewind(A, 0, 4)]
    assert ledger.probed(admission.probes[0], 0) == ([Rewind(B, 0, 0)], 0)
    # Started, the orders do not run ahead of the held scans: both go back and on together.
    restart = apply(ledger, batch(0, topic=B))
    assert restart.verdicts == [Verdict.SKIPPED_HELD]
    assert restart.rewinds == [Rewind(B, 0, 0), Rewind(A, 0, 4)]
    assert apply(ledger, batch(4, topic=A) + batch(0, topic=B)).verdicts == [Verdict.APPLY] * 2


def test_a_new_generation_forgets_a_start_it_asked_for():
    ledger = make()
    probe = admit(ledger, batch(5)).probes[0]
    assert ledger.verify({}, generation=2) == []  # the partition may have moved meanwhile
    assert ledger.probed(probe, 0) == ([], 0)
    assert ledger.rewinding() == []


def test_offsets_below_the_ledger_were_applied_before_a_crash():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 5}}
    admission = apply(make(store), batch(3, 4, 5, 6))
    assert admission.verdicts == [Verdict.ALREADY_APPLIED] * 2 + [Verdict.APPLY] * 2
    assert store.data[ledger_key(0)]["next_offsets"][A] == 7


def test_skipped_offsets_rewind_the_partition_and_wait():
    store = DictLedgerStore()
    store.data[ledger_key(2)] = {"next_offsets": {A: 10}}
    ledger = make(store)
    admission = apply(ledger, batch(40, 41, 42, partition=2))
    assert admission.verdicts == [Verdict.SKIPPED_GAP] + [Verdict.SKIPPED_STALE] * 2
    assert admission.rewinds == [Rewind(A, 2, 10)]
    assert ledger.rewinding() == [(A, 2)]
    assert store.writes == []  # nothing applied, nothing recorded

    # Messages fetched before the seek took effect keep coming; then the rewound ones.
    assert admit(ledger, batch(43, partition=2)).verdicts == [Verdict.SKIPPED_STALE]
    admission = apply(ledger, batch(10, 11, partition=2))
    assert admission.verdicts == [Verdict.APPLY, Verdict.APPLY]
    assert ledger.rewinding() == []
    assert store.data[ledger_key(2)]["next_offsets"][A] == 12


def test_offsets_absent_from_the_log_are_counted_once_the_log_confirms_it():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 10}}
    ledger = make(store)
    admit(ledger, batch(14))  # 10..13 look skipped
    # After the rewind to 10 the first message is 12: inside the gap, so the log is asked.
    admission = admit(ledger, batch(12, 13, 14))
    assert admission.verdicts == [Verdict.SKIPPED_STALE] * 3
    assert admission.probes == [Probe(A, 0, 10)]
    # The log's first offset from 10 is 12: 10 and 11 are not in it (e.g. transaction markers).
    assert ledger.probed(Probe(A, 0, 10), 12) == ([Rewind(A, 0, 12)], 2)
    assert admit(ledger, batch(13)).verdicts == [Verdict.SKIPPED_STALE]
    admission = apply(ledger, batch(12, 13, 14))
    assert admission.verdicts == [Verdict.APPLY] * 3
    assert store.data[ledger_key(0)]["next_offsets"][A] == 15
    assert ledger.rewinding() == []


def test_a_stream_sent_back_by_a_seek_is_not_taken_for_a_hole_in_the_log():
    # What CI caught: after a restore Faust seeks to the committed offset (724), behind messages
    # already fetched (up to 800), while the ledger waits for 555.
    store = DictLedgerStore()
    store.data[ledger_key(1)] = {"next_offsets": {A: 555}}
    ledger = make(store)
    assert admit(ledger, batch(800, partition=1)).rewinds == [Rewind(A, 1, 555)]
    admission = admit(ledger, batch(724, 725, partition=1))
    assert admission.verdicts == [Verdict.SKIPPED_STALE] * 2
    assert admission.probes == [Probe(A, 1, 555)]  # one probe, however many such messages
    assert ledger.probed(Probe(A, 1, 555), 555) == ([Rewind(A, 1, 555)], 0)
    later = admit(ledger, batch(726, partition=1))
    assert (later.verdicts, later.probes) == ([Verdict.SKIPPED_STALE], [])  # known: just wait
    assert apply(ledger, batch(555, 556, partition=1)).verdicts == [Verdict.APPLY] * 2
    assert store.data[ledger_key(1)]["next_offsets"][A] == 557


def test_a_probe_without_an_answer_is_asked_again_and_a_moot_one_is_ignored():
    ledger = at({A: 2})
    admit(ledger, batch(9))
    assert admit(ledger, batch(5)).probes == [Probe(A, 0, 2)]
    assert admit(ledger, batch(6)).probes == []  # one out already
    assert ledger.probed(Probe(A, 0, 2), None) == ([], 0)
    assert admit(ledger, batch(7)).probes == [Probe(A, 0, 2)]
    admit(ledger, batch(1), generation=2)  # a new generation forgets what was pending
    assert ledger.probed(Probe(A, 0, 2), 5) == ([], 0)


def test_a_rewind_that_lost_its_race_is_asked_again():
    clock = Clock()
    ledger = at({A: 2}, clock)
    assert admit(ledger, batch(5)).rewinds == [Rewind(A, 0, 2)]
    assert admit(ledger, batch(6)).rewinds == []  # within the retry time: just stale
    clock.now += 3
    assert admit(ledger, batch(7)).rewinds == [Rewind(A, 0, 2)]
    assert ledger.verify({(A, 0): 2}, generation=1) == []  # just asked
    clock.now += 3
    assert ledger.verify({(A, 0): 2}, generation=1) == []  # the second retry waits 4 s
    clock.now += 1
    assert ledger.verify({(A, 0): 2}, generation=1) == [Rewind(A, 0, 2)]  # no traffic: again


def test_rewinds_are_asked_again_ever_less_often_up_to_a_bound():
    clock = Clock()
    ledger = at({A: 2}, clock)
    assert not admit(ledger, batch(5)).rewinds[0].again  # a new rewind: always sought
    asked_at = []
    for _ in range(80):  # 80 s of stale messages, one a second
        clock.now += 1
        if rewinds := admit(ledger, batch(6)).rewinds:
            assert rewinds[0].again  # the shell skips it while the first seek stands
            asked_at.append(clock.now - 100)
    assert asked_at == [2, 6, 14, 30, 62]  # then every 32 s


def test_messages_beyond_the_gap_never_count_as_absent_offsets():
    clock = Clock()
    ledger = at({A: 2}, clock)
    admit(ledger, batch(5))  # 2..4 skipped: rewind
    for _ in range(5):  # however long the rewind takes, later messages only wait
        clock.now += 3
        assert admit(ledger, batch(6)).verdicts == [Verdict.SKIPPED_STALE]
    assert admit(ledger, batch(2)).verdicts == [Verdict.APPLY]


def test_while_one_topic_of_a_partition_rewinds_the_others_wait_for_it():
    # What the crash test caught: scans went on while their partition's orders were rewound, so a
    # shipment's order was applied after its scans (and a missed-promise alert never came).
    store = DictLedgerStore()
    store.data[ledger_key(1)] = {"next_offsets": {A: 56, B: 16}}
    store.data[ledger_key(2)] = {"next_offsets": {A: 3}}
    ledger = make(store)
    admission = apply(ledger, batch(40, topic=B, partition=1) + batch(56, topic=A, partition=1))
    assert admission.verdicts == [Verdict.SKIPPED_GAP, Verdict.SKIPPED_HELD]
    assert admission.rewinds == [Rewind(B, 1, 16), Rewind(A, 1, 56)]
    assert store.writes == []
    # Another partition is not held.
    assert apply(ledger, batch(3, topic=A, partition=2)).verdicts == [Verdict.APPLY]
    # The order comes back first. Were it applied now, the orders would run ahead of the
    # scans by all that was fetched meanwhile: both are sent back to go on together.
    restart = apply(ledger, batch(16, topic=B, partition=1))
    assert restart.verdicts == [Verdict.SKIPPED_HELD]
    assert restart.rewinds == [Rewind(B, 1, 16), Rewind(A, 1, 56)]
    assert not any(rewind.again for rewind in restart.rewinds)  # new seeks, both
    assert apply(ledger, batch(16, topic=B, partition=1)).verdicts == [Verdict.APPLY]
    assert ledger.rewinding() == [(A, 1)]
    assert apply(ledger, batch(56, 57, topic=A, partition=1)).verdicts == [Verdict.APPLY] * 2
    assert ledger.rewinding() == []
    assert store.data[ledger_key(1)]["next_offsets"] == {A: 58, B: 17}


def test_two_topics_with_gaps_of_their_own_never_wait_for_each_other_forever():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 10, B: 5}}
    ledger = make(store)
    admit(ledger, batch(20, topic=A) + batch(9, topic=B))  # both rewound
    # The scans' next offset comes back first: it waits for the orders' gap...
    assert admit(ledger, batch(10, topic=A)).verdicts == [Verdict.SKIPPED_HELD]
    # ...which, back, sends both back to go on together; then each is applied as it comes.
    assert apply(ledger, batch(5, topic=B)).verdicts == [Verdict.SKIPPED_HELD]
    assert apply(ledger, batch(10, topic=A)).verdicts == [Verdict.APPLY]
    assert apply(ledger, batch(5, topic=B)).verdicts == [Verdict.APPLY]
    assert ledger.rewinding() == []


def test_a_commit_past_the_ledger_is_rewound_even_without_new_messages():
    store = DictLedgerStore()
    store.data[ledger_key(1)] = {"next_offsets": {A: 7}}
    ledger = make(store)
    # Faust committed 8 (a failed batch it acknowledged): no message after 7 may ever come.
    assert ledger.verify({(A, 1): 8}, generation=1) == [Rewind(A, 1, 7)]
    assert ledger.rewinding() == [(A, 1)]
    assert apply(ledger, batch(7, partition=1)).verdicts == [Verdict.APPLY]
    assert ledger.verify({(A, 1): 8}, generation=1) == []
    # A partition that is caught up, or has no ledger yet, needs nothing.
    assert ledger.verify({(A, 1): 8, (A, 2): 50}, generation=1) == []


def test_nothing_is_judged_while_rebalancing():
    store = DictLedgerStore()
    ledger = make(store)
    admission = admit(ledger, batch(20, 21), settled=False)
    assert admission.verdicts == [Verdict.SKIPPED_REBALANCING] * 2
    assert (admission.rewinds, admission.probes, store.writes) == ([], [], [])
    # A new deployment has no stored ledger: resuming at 22 would lose 20 and 21 (and what came
    # before them): the log says where it starts.
    admission = admit(ledger, batch(22), generation=2)
    assert admission.verdicts == [Verdict.SKIPPED_UNSTARTED]
    assert ledger.probed(admission.probes[0], 0) == ([Rewind(A, 0, 0)], 0)


def test_the_stored_ledger_wins_over_what_was_skipped_while_rebalancing():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 15}}
    ledger = make(store)
    admit(ledger, batch(20), settled=False)
    assert admit(ledger, batch(15)).verdicts == [Verdict.APPLY]


def test_partitions_of_another_worker_are_not_processed():
    ledger = make()
    admission = admit(ledger, batch(1, partition=3), assigned=lambda tp: tp != (A, 3))
    assert admission.verdicts == [Verdict.SKIPPED_NOT_ASSIGNED]


def test_topics_of_one_partition_share_one_ledger_entry():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 3, B: 8}}
    ledger = make(store)
    apply(ledger, [*batch(3), *batch(8, topic=B)])
    assert store.data == {ledger_key(0): {"next_offsets": {A: 4, B: 9}}}
    assert store.writes == [(0, 1)]


def test_a_new_generation_reads_the_stored_ledger_again():
    store = DictLedgerStore()
    store.data[ledger_key(0)] = {"next_offsets": {A: 1}}
    ledger = make(store)
    apply(ledger, batch(1, 2))
    # Meanwhile another worker owned the partition and applied up to 9.
    store.data[ledger_key(0)] = {"next_offsets": {A: 10}}
    assert admit(ledger, batch(3)).verdicts == [Verdict.APPLY]  # same generation: cached
    ledger.reset()
    assert admit(ledger, batch(4), generation=1).verdicts == [Verdict.ALREADY_APPLIED]
    assert admit(ledger, batch(10), generation=2).verdicts == [Verdict.APPLY]


def test_ledger_keys_can_never_be_tracking_numbers():
    from parcelwatch.schemas import patterns

    tracking = patterns.compile_full(patterns.TRACKING_NUMBER)
    assert is_ledger_key(ledger_key(0)) and not tracking.fullmatch(ledger_key(0))
    assert not is_ledger_key("1Z999AA10123456784")


def test_a_stalled_partition_is_explained_with_what_holds_it():
    clock = Clock()
    store = DictLedgerStore()
    store.data[ledger_key(1)] = {"next_offsets": {A: 56, B: 16}}
    ledger = make(store, clock)
    apply(ledger, batch(40, topic=B, partition=1) + batch(56, topic=A, partition=1))
    clock.now += 2.5
    assert ledger.explain((A, 1)) == (
        "next offset to apply 56; rewinding to 56 (seen 56, asked 2.5 s ago, held); "
        "held by t.orders[1] rewinding to 16 (seen 40, asked 2.5 s ago)"
    )
    assert ledger.explain((B, 1)) == (
        "next offset to apply 16; rewinding to 16 (seen 40, asked 2.5 s ago)"
    )
    # A partition nothing was applied from, while its start is asked of the log.
    admit(ledger, batch(7, topic=B, partition=3))
    clock.now += 1
    assert ledger.explain((B, 3)) == (
        "next offset to apply not known yet; asked where the log starts 1.0 s ago"
    )


def test_a_commit_above_a_partition_that_is_applying_is_no_gap_until_it_goes_quiet():
    # After a rewind the group's commit stays above the offsets the stream goes through again.
    clock = Clock()
    ledger = at({A: 2}, clock)
    apply(ledger, batch(2, 3))
    clock.now += 1
    assert ledger.verify({(A, 0): 9}, generation=1) == []
    apply(ledger, batch(4))
    clock.now += 3.9
    assert ledger.verify({(A, 0): 9}, generation=1) == []
    clock.now += 0.2  # quiet for 4 s: no message may come to reveal the gap
    assert ledger.verify({(A, 0): 9}, generation=1) == [Rewind(A, 0, 5)]


def test_a_held_topic_whose_next_offset_came_is_sought_again_even_while_its_seek_stands():
    # Its seek did its part (the record came, and was held): asking again is a new seek, not a
    # repeat the shell may skip. Were the holder never to send it back, it would wait for good.
    clock = Clock()
    ledger = at({A: 4, B: 7}, clock)
    admit(ledger, batch(9, topic=B) + batch(4, topic=A))  # orders rewound, scans held
    clock.now += 2.5
    retry = admit(ledger, batch(4, topic=A))
    assert retry.verdicts == [Verdict.SKIPPED_HELD]
    assert retry.rewinds == [Rewind(A, 0, 4)] and not retry.rewinds[0].again
    clock.now += 4.5
    rewinds = ledger.verify({(A, 0): 4, (B, 0): 7}, generation=1)
    assert rewinds == [Rewind(A, 0, 4), Rewind(B, 0, 7)]
    assert all(rewind.again for rewind in rewinds)  # nothing came since: repeats
