"""Which input offsets have really been applied: the ledger that makes "nothing lost" hold.

Faust commits a partition's offset when the messages below it were *acknowledged*, and it
acknowledges more than it applied: a message it fetched before a rebalance finished, one that
``Consumer._drain_messages`` skipped over as a "gap" after a seek, or a batch handed to the agent
while the table was still being restored from its changelog (faust-streaming 0.15: "Resuming flow"
comes before "Done reading from changelog" when a worker starts on an empty disk). A committed
offset is therefore only a hint. The truth is kept here instead:

* for every input partition, the next offset to apply is stored in the shipments table itself,
  under a key no tracking number can take (``~applied~<partition>``), so it lives in the same
  changelog partition as the states it describes and is written after them in every batch;
* each message is judged against it: the next offset is applied; a lower one was applied before
  (a re-read after a crash: counted as a duplicate, nothing is published again); a higher one
  means offsets were skipped, so the partition is rewound to the next offset and the message
  waits for its turn;
* a partition (of a topic) with no stored entry has never been applied by anyone: it starts at
  the log's first offset, asked of the log with a ``Probe``, never at the first message this
  worker happens to see. Faust may have committed past messages another worker fetched and
  skipped while the group rebalanced, so the first message seen can be well inside the log;
* some skipped offsets may not be in the log at all (compaction, the commit markers of
  transactional producers, retention). The stream cannot tell those from messages fetched before
  a seek (Faust seeks to the committed offsets after a restore, which sends the stream *back*), so
  when a message inside the gap arrives the ledger asks for a ``Probe``: the shell reads the log
  itself, and only when the broker's first offset from the expected one is past it are the
  absent offsets counted and the partition continued there;
* while one topic of a partition is rewound, the other topics of that partition wait too
  (``SKIPPED_HELD``): they carry the same shipments, and a shipment's order must not come after
  scans that followed it. When the rewound topic is back, all of them are sent back to their
  next offsets to go on together (alone, it would run ahead by all that was fetched meanwhile);
* a rewind is asked again while its next offset does not come, less often each time: a seek
  throws away what was fetched since the last one;
* nothing is judged while the worker rebalances or restores its tables: the ledger on an empty
  disk is only known once the changelog has been read.

Pure, apart from reading and writing the table through ``LedgerStore``; the Faust shell in
``parcelwatch.streams.runtime.agents`` seeks the consumer where ``Admission.rewinds`` says.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

LEDGER_KEY_PREFIX = "~applied~"  # "~" is not allowed in a tracking number


def ledger_key(partition: int) -> str:
    return f"{LEDGER_KEY_PREFIX}{partition}"


def is_ledger_key(key: str) -> bool:
    return key.startswith(LEDGER_KEY_PREFIX)


class LedgerStore(Protocol):
    """The table, seen from one partition: the shell focuses it on an event of that partition."""

    def read(self, partition: int, index: int | None) -> dict[str, Any] | None: ...

    def write(self, partition: int, index: int, value: dict[str, Any]) -> None: ...


class Verdict(StrEnum):
    APPLY = "apply"
    ALREADY_APPLIED = "already_applied"  # below the next offset: applied before a crash/restart
    SKIPPED_GAP = "skipped_gap"  # above the next offset: rewound, it will come again
    SKIPPED_STALE = "skipped_stale"  # fetched before a rewind took effect; it will come again
    SKIPPED_REBALANCING = "skipped_rebalancing"  # tables not restored yet; it will come again
    SKIPPED_NOT_ASSIGNED = "skipped_not_assigned"  # the partition moved to another worker
    SKIPPED_HELD = "skipped_held"  # another topic of its partition is being rewound: waits
    SKIPPED_UNSTARTED = "skipped_unstarted"  # no ledger yet: waits for the log's first offset


SKIPPED = frozenset(
    {
        Verdict.SKIPPED_GAP,
        Verdict.SKIPPED_STALE,
        Verdict.SKIPPED_REBALANCING,
        Verdict.SKIPPED_NOT_ASSIGNED,
        Verdict.SKIPPED_HELD,
        Verdict.SKIPPED_UNSTARTED,
    }
)


@dataclass(frozen=True, slots=True)
class Rewind:
    """Seek ``topic``/``partition`` back to ``offset``: the offsets from there were not applied."""

    topic: str
    partition: int
    offset: int
    # Asked before, and nothing says the seek was lost: the shell skips it while its seek is
    # still in effect (``runtime.read_offsets``). Not part of what the rewind is.
    again: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Probe:
    """Ask the log for the first offset it holds at or after ``offset`` of a partition.
    ``start``: where a partition without a ledger starts (``offset`` is 0: the log's start)."""

    topic: str
    partition: int
    offset: int
    start: bool = False

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)


@dataclass(slots=True)
class _PendingRewind:
    expected: int  # the next offset to apply, where the consumer was sent
    seen: int  # the offset that revealed the gap
    asked_at: float  # monotonic seconds
    probing: bool = False  # a probe of ``expected`` is out
    held: bool = False  # no gap of its own: waits while another topic of its partition rewinds
    present: bool = False  # a probe found ``expected`` in the log: only waiting is left
    asks: int = 1  # rewinds asked for so far
    came_back: bool = False  # ``expected`` came (and was held) since the last ask
    since: float = field(init=False)  # when the wait began

    def __post_init__(self) -> None:
        self.since = self.asked_at


@dataclass(slots=True)
class _Start:
    asked_at: float  # monotonic seconds
    skipped: bool  # messages were skipped waiting for it: the consumer must be sent back


@dataclass(frozen=True, slots=True)
class Position:
    """Where one message stands: enough to judge it (an InputMessage fits)."""

    topic: str
    partition: int
    offset: int


@dataclass
class Admission:
    verdicts: list[Verdict]
    rewinds: list[Rewind] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)  # answer each with InputLedger.probed

    def indexes(self, verdict: Verdict) -> list[int]:
        return [i for i, judged in enumerate(self.verdicts) if judged is verdict]


TopicPartition = tuple[str, int]
_Entry = TypeVar("_Entry")


class InputLedger:
    """Judges every input message against the applied offsets and records what was applied."""

    def __init__(
        self,
        store: LedgerStore,
        *,
        clock: Callable[[], float],
        rewind_retry_seconds: float = 2.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rewind_retry_seconds = rewind_retry_seconds
        self._next: dict[TopicPartition, int] = {}  # cache of the stored ledger
        self._loaded: set[int] = set()  # partitions whose stored ledger is in the cache
        self._pending: dict[TopicPartition, _PendingRewind] = {}
        # Partitions without a stored ledger whose start was asked of the log.
        self._starting: dict[TopicPartition, _Start] = {}
        self._applied_at: dict[TopicPartition, float] = {}  # when each last applied a message
        self._generation: int | None = None

    # -- judging ----------------------------------------------------------------------------

    def starts_to_ask(
        self,
        messages: Sequence[Position],
        *,
        generation: int,
        settled: bool,
        assigned: Callable[[TopicPartition], bool],
    ) -> list[Probe]:
        """Start probes for the partitions of ``messages`` nothing was applied from yet. Answered
        (``probed``) before ``admit``, their messages are judged like any other; unanswered,
        ``admit`` skips them and asks again."""
        self._on_generation(generation)
        if not settled:
            return []
        probes: list[Probe] = []
        checked: set[TopicPartition] = set()  # each partition once, not once per message
        for index, message in enumerate(messages):
            tp = (message.topic, message.partition)
            if tp in checked:
                continue
            checked.add(tp)
            if assigned(tp) and self._expected(tp, index) is None:
                probes.append(Probe(tp[0], tp[1], 0, start=True))
                self._starting[tp] = _Start(self._clock(), skipped=False)
        return probes

    def admit(
        self,
        messages: Sequence[Position],
        *,
        generation: int,
        settled: bool,
        assigned: Callable[[TopicPartition], bool],
    ) -> Admission:
        """Judge ``messages`` in order. ``settled``: not rebalancing and tables restored;
        ``generation``: the consumer group generation (a new one forgets cached positions)."""
        self._on_generation(generation)
        admission = Admission(verdicts=[])
        for index, message in enumerate(messages):
            tp = (message.topic, message.partition)
            if not settled:
                verdict = Verdict.SKIPPED_REBALANCING
            elif not assigned(tp):
                verdict = Verdict.SKIPPED_NOT_ASSIGNED
            else:
                verdict = self._judge(tp, message.offset, index, admission)
            admission.verdicts.append(verdict)
        return admission

    def _judge(self, tp: TopicPartition, offset: int, index: int, admission: Admission) -> Verdict:
        expected = self._expected(tp, index)
        if expected is None:
            # Nothing of this partition was ever applied (a new deployment, a new topic, or one
            # from before the ledger). The message is not necessarily its first: only the log
            # can say where it starts. Until then nothing is stored, so a crash asks again.
            admission.probes += self._ask_where_it_starts(tp)
            return Verdict.SKIPPED_UNSTARTED
        if offset == expected:
            if self._held_by_partition(tp):
                return self._hold(tp, expected, admission)
            if self._goes_on_with_the_held(tp, admission):
                return Verdict.SKIPPED_HELD
            return self._applying(tp, offset)
        if offset < expected:
            return Verdict.ALREADY_APPLIED
        pending = self._pending.get(tp)
        if pending is not None and pending.expected == expected:
            if offset <= pending.seen and not (pending.probing or pending.present):
                # Inside the gap: either the offsets before it are not in the log, or this was
                # fetched before a seek. Only the log can say which.
                pending.probing = True
                admission.probes.append(Probe(tp[0], tp[1], expected))
            else:  # the seek may have lost a race with messages already fetched
                admission.rewinds += self._ask_again_if_due(tp, pending)
            return Verdict.SKIPPED_STALE
        self._pending[tp] = _PendingRewind(expected, offset, self._clock())
        admission.rewinds.append(Rewind(tp[0], tp[1], expected))
        log.warning(
            "%s[%d]: offset %d arrived but %d is the next to apply; rewinding",
            tp[0], tp[1], offset, expected,
        )  # fmt: skip
        return Verdict.SKIPPED_GAP

    def _held_by_partition(self, tp: TopicPartition) -> bool:
        """Whether another input topic of this partition is being rewound over a gap of its own.
        Its skipped messages come first: were this topic to go on, a shipment's scans could be
        applied before its order (both topics carry the same shipments on the same partition)."""
        return any(not pending.held for _, pending in self._beside(tp, self._pending)) or any(
            self._beside(tp, self._starting)
        )

    @staticmethod
    def _beside(
        tp: TopicPartition, entries: Mapping[TopicPartition, _Entry]
    ) -> Iterator[tuple[TopicPartition, _Entry]]:
        """``entries`` of the other input topics of ``tp``'s partition (lazily: a test per
        applied message that is all but always empty)."""
        return ((other, entry) for other, entry in entries.items()
                if other[1] == tp[1] and other != tp)  # fmt: skip

    def _goes_on_with_the_held(self, tp: TopicPartition, admission: Admission) -> bool:
        """Back from a rewind of its own while other topics of its partition were held for it:
        all are sent back to their next offsets, to go on together. Were it to go on alone, it
        would run ahead of them by everything fetched meanwhile (scans before their orders)."""
        pending = self._pending.get(tp)
        if pending is None or pending.held:
            return False
        held = [
            (other, waiting)
            for other, waiting in sorted(self._beside(tp, self._pending))
            if waiting.held
        ]
        if not held:
            return False
        pending.held = True
        for other, waiting in [(tp, pending), *held]:
            admission.rewinds.append(self._ask(other, waiting, again=False))
        return True

    def _hold(self, tp: TopicPartition, expected: int, admission: Admission) -> Verdict:
        pending = self._pending.get(tp)
        if pending is None or pending.expected != expected:
            self._pending[tp] = _PendingRewind(expected, expected, self._clock(), held=True)
            admission.rewinds.append(Rewind(tp[0], tp[1], expected))
        else:
            pending.held = True  # it waits for the other topic, not for a gap of its own
            pending.came_back = True  # the seek did its part: another one is needed
            admission.rewinds += self._ask_again_if_due(tp, pending)
        return Verdict.SKIPPED_HELD

    def _ask_again_if_due(self, tp: TopicPartition, pending: _PendingRewind) -> list[Rewind]:
        """The rewind of ``pending`` again, when the retry time has passed since the last ask.
        The time doubles with each ask (up to 16 times the first): a seek throws away what the
        consumer fetched of the partition since the last one, and records buffered ahead of the
        re-fetched ones can take longer to pass than any fixed time."""
        retry_after = self._rewind_retry_seconds * 2 ** min(pending.asks - 1, 4)
        if self._clock() - pending.asked_at < retry_after:
            return []
        again, pending.came_back = not pending.came_back, False
        return [self._ask(tp, pending, again=again)]

    def _ask(self, tp: TopicPartition, pending: _PendingRewind, *, again: bool) -> Rewind:
        pending.asked_at = self._clock()
        pending.asks += 1
        return Rewind(tp[0], tp[1], pending.expected, again=again)

    def _ask_where_it_starts(self, tp: TopicPartition) -> list[Probe]:
        """A start probe for a partition without a ledger, unless one was asked recently."""
        now = self._clock()
        start = self._starting.get(tp)
        if start is not None and now - start.asked_at < self._rewind_retry_seconds:
            start.skipped = True
            return []
        self._starting[tp] = _Start(now, skipped=True)
        return [Probe(tp[0], tp[1], 0, start=True)]

    def probed(self, probe: Probe, first_offset: int | None) -> tuple[list[Rewind], int]:
        """The log's answer to ``probe``: the first offset it holds at or after the probed one
        (None: no answer). Returns the rewinds to ask for and how many offsets are absent."""
        tp = (probe.topic, probe.partition)
        if probe.start:
            return self._started(tp, first_offset), 0
        pending = self._pending.get(tp)
        if pending is None or pending.expected != probe.offset or not pending.probing:
            return [], 0  # moot: applied meanwhile, or a new generation
        pending.probing = False
        if first_offset is None:
            return [], 0  # asked again by the next message inside the gap
        pending.asked_at = self._clock()
        if first_offset <= probe.offset:
            pending.present = True  # a stale message: the rewound ones are still to come
            return [Rewind(probe.topic, probe.partition, probe.offset, again=True)], 0
        log.warning(
            "offsets %d to %d of %s[%d] are not in the log (compaction, transaction markers or "
            "retention); continuing at %d",
            probe.offset, first_offset - 1, probe.topic, probe.partition, first_offset,
        )  # fmt: skip
        self._next[tp] = first_offset
        self._pending[tp] = _PendingRewind(first_offset, first_offset, self._clock(), present=True)
        return [Rewind(probe.topic, probe.partition, first_offset)], first_offset - probe.offset

    def _started(self, tp: TopicPartition, first_offset: int | None) -> list[Rewind]:
        """A partition without a ledger starts at the log's first offset. When messages were
        skipped waiting for it, the consumer is sent there, and whatever it fetched beyond waits
        (as after a rewind) until that comes."""
        start = self._starting.get(tp)
        if start is None or first_offset is None:
            return []  # moot (a new generation), or asked again by the next message or verify
        del self._starting[tp]
        self._next[tp] = first_offset
        log.info(
            "%s[%d]: nothing applied yet; starting at the log's first offset, %d",
            tp[0], tp[1], first_offset,
        )  # fmt: skip
        if not start.skipped:
            return []
        self._pending[tp] = _PendingRewind(first_offset, first_offset, self._clock(), present=True)
        return [Rewind(tp[0], tp[1], first_offset)]

    def _applying(self, tp: TopicPartition, offset: int) -> Verdict:
        self._next[tp] = offset + 1
        self._applied_at[tp] = self._clock()
        pending = self._pending.pop(tp, None)
        if pending is not None:
            log.info(
                "%s[%d]: back at %d after %.1f s (asked %d times)",
                tp[0], tp[1], offset, self._clock() - pending.since, pending.asks,
            )  # fmt: skip
        return Verdict.APPLY

    def _expected(self, tp: TopicPartition, index: int | None) -> int | None:
        partition = tp[1]
        if partition not in self._loaded:
            stored = self._store.read(partition, index) or {}
            for name, offset in stored.get("next_offsets", {}).items():
                self._next.setdefault((name, partition), int(offset))
            self._loaded.add(partition)
        return self._next.get(tp)

    def _on_generation(self, generation: int) -> None:
        if generation != self._generation:
            # Partitions may have moved, and whoever had them may have applied more: re-read.
            self.reset()
            self._generation = generation

    # -- recording --------------------------------------------------------------------------

    def record(self, messages: Sequence[Position], admission: Admission) -> None:
        """Store the next offset of every partition that applied something in this batch.
        Called after the batch's states were written: the ledger never runs ahead of them."""
        last_index: dict[int, int] = {}
        for index, (message, verdict) in enumerate(zip(messages, admission.verdicts, strict=True)):
            if verdict is Verdict.APPLY:
                last_index[message.partition] = index
        for partition, index in last_index.items():
            self._store.write(partition, index, self._entry(partition))

    def _entry(self, partition: int) -> dict[str, Any]:
        offsets = {
            topic: offset for (topic, part), offset in self._next.items() if part == partition
        }
        return {"next_offsets": dict(sorted(offsets.items()))}

    # -- partitions without traffic ---------------------------------------------------------

    def verify(
        self, committed: Mapping[TopicPartition, int | None], *, generation: int
    ) -> list[Rewind]:
        """Rewinds for partitions whose committed offset passed the next offset to apply, e.g. a
        failed batch Faust committed anyway: no later message may come to reveal the gap. Also
        asks again for rewinds whose re-fetched messages never came. For a periodic timer, while
        settled; ``committed``: the consumer group's offsets of the assigned input partitions."""
        self._on_generation(generation)
        now = self._clock()
        rewinds = []
        for tp, offset in sorted(committed.items()):
            pending = self._pending.get(tp)
            if pending is not None:
                rewinds += self._ask_again_if_due(tp, pending)
                continue
            if now - self._applied_at.get(tp, -math.inf) < 2 * self._rewind_retry_seconds:
                # Applying: the stream itself reveals a gap (a later offset comes first), and a
                # commit above the offsets it goes through is what a rewind just left behind.
                continue
            expected = self._expected(tp, None)
            if expected is not None and offset is not None and expected < offset:
                log.warning(
                    "%s[%d]: offset %d is committed but %d is the next to apply; rewinding",
                    tp[0], tp[1], offset, expected,
                )  # fmt: skip
                self._pending[tp] = _PendingRewind(expected, offset - 1, now)
                rewinds.append(Rewind(tp[0], tp[1], expected))
        return rewinds

    def unanswered_starts(self) -> list[Probe]:
        """Start probes to ask again: their answer never came, and no later message of the
        partition may come to ask (for the periodic timer)."""
        return [probe for tp in sorted(self._starting) for probe in self._ask_where_it_starts(tp)]

    def explain(self, tp: TopicPartition) -> str:
        """What the ledger knows of ``tp``, for a report on a partition that stopped applying:
        its next offset, a rewind or start probe of its own, and what holds it."""
        now = self._clock()
        known = self._next.get(tp)
        parts = [f"next offset to apply {known if known is not None else 'not known yet'}"]
        if (pending := self._pending.get(tp)) is not None:
            parts.append(_describe_rewind(pending, now))
        if (start := self._starting.get(tp)) is not None:
            parts.append(_describe_start(start, now))
        holders = [
            f"{other[0]}[{other[1]}] {_describe_rewind(rewind, now)}"
            for other, rewind in sorted(self._beside(tp, self._pending))
            if not rewind.held
        ] + [
            f"{other[0]}[{other[1]}] {_describe_start(other_start, now)}"
            for other, other_start in sorted(self._beside(tp, self._starting))
        ]
        if holders:
            parts.append("held by " + ", ".join(holders))
        return "; ".join(parts)

    def rewinding(self) -> list[TopicPartition]:
        return sorted({*self._pending, *self._starting})

    def next_offsets(self) -> dict[TopicPartition, int]:
        """The next offset to apply per input partition known in this generation."""
        return dict(self._next)

    def reset(self) -> None:
        """Forget every cached position: read the stored ledger again (after a failed batch,
        whose admitted offsets were counted here but never stored)."""
        self._generation = None
        self._next.clear()
        self._loaded.clear()
        self._pending.clear()
        self._starting.clear()
        self._applied_at.clear()


def _describe_rewind(pending: _PendingRewind, now: float) -> str:
    flags = [name for name in ("held", "probing", "present") if getattr(pending, name)]
    return (
        f"rewinding to {pending.expected} (seen {pending.seen}, asked {now - pending.asked_at:.1f}"
        f" s ago{', ' + ', '.join(flags) if flags else ''})"
    )


def _describe_start(start: _Start, now: float) -> str:
    return f"asked where the log starts {now - start.asked_at:.1f} s ago"
