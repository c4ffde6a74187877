"""Input partitions whose consumer-group offset stays behind what the worker has applied.

Faust commits an input offset once every message before it was acknowledged. Its bookkeeping
can end up believing an offset committed that the group never stored: faust-streaming 0.15
records a commit the broker refused ("already rebalanced") as done, and a partition whose acked
offsets start more than one past its committed offset is never committed again. Either way the
partition stays uncommitted for good once no later message comes: nothing is lost (a restart
reads it again and the input ledger counts it as duplicates), but its lag never falls, alerts on
it fire, and a restart re-reads everything since.

The input ledger knows which offsets were applied, so the worker can commit them itself. This
module decides when: only when the group's offset stayed at the same place, below the next
offset to apply, across two looks, with nothing applied in between. A partition still being
worked on moves between looks and is left to Faust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from parcelwatch.streams.pipeline.input_ledger import TopicPartition


@dataclass
class CommitLag:
    """Remembers, per input partition, the last (group offset, next offset to apply) seen."""

    _seen: dict[TopicPartition, tuple[int | None, int]] = field(default_factory=dict)
    _generation: int | None = None

    def due(
        self,
        group_offsets: Mapping[TopicPartition, int | None],
        applied: Mapping[TopicPartition, int],
        *,
        generation: int,
    ) -> dict[TopicPartition, int]:
        """The offsets to commit now. ``group_offsets``: the consumer group's committed offset
        of each assigned input partition (None: none yet); ``applied``: the ledger's next offset
        to apply of each; ``generation``: the group's (after a rebalance, looks start over). A
        partition is due when the group's offset was behind on the previous look of the same
        generation too, at the same place, and the ledger had not moved either."""
        if generation != self._generation:
            self._seen.clear()
            self._generation = generation
        due: dict[TopicPartition, int] = {}
        seen: dict[TopicPartition, tuple[int | None, int]] = {}
        for tp, next_offset in applied.items():
            if tp not in group_offsets:
                continue  # not assigned here (any more): not ours to commit
            committed = group_offsets[tp]
            if committed is not None and committed >= next_offset:
                continue  # caught up (or ahead: the ledger's verify handles that side)
            look = (committed, next_offset)
            if self._seen.get(tp) == look:
                due[tp] = next_offset
            else:
                seen[tp] = look
        self._seen = seen
        return due
