"""Raw carrier payloads, batch by batch: each ``carrier-raw`` message read by its source's parser
and published as canonical scans on ``carrier-scans``, or dead-lettered.

Nothing is stored here: the tracking agent applies the scans (and the clock's rules to them) like
any other. Delivery is at-least-once: a batch's outputs are acknowledged by the broker before the
batch is, and a batch read again publishes the same scans with the same deterministic ids (see
``streams/carriers/normalize.py``), which the tracking agent counts as duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.carrier_raw import decode_carrier_raw
from parcelwatch.schemas.codec import InvalidEvent, encode
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import CarrierSource, DeadLetterReason, Limits
from parcelwatch.streams.carriers.model import CarrierError, PayloadError
from parcelwatch.streams.carriers.reading import PayloadScans, scans_from_payload
from parcelwatch.streams.pipeline.dead_letters import DeadLetterMaker
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import PublishMany
from parcelwatch.streams.pipeline.unmapped_codes import UnmappedCodeLog

UNKNOWN_SOURCE = "unknown"  # the source label of an envelope whose source could not be read


class RawOutcome(StrEnum):
    """What became of one raw message (the ``outcome`` label of the messages metric)."""

    NORMALIZED = "normalized"  # one scan or more published
    EMPTY = "empty"  # read, but no events: a webhook about something else, an empty history
    CARRIER_ERROR = "carrier_error"  # only the carrier's error answer: dead-lettered with it
    DEAD_LETTERED = "dead_lettered"  # an invalid envelope or an unreadable payload


@dataclass(frozen=True, slots=True)
class _Result:
    source: CarrierSource | None  # None: the envelope was unreadable
    outcome: RawOutcome
    scans: PayloadScans | None = None  # None: no payload read


class CarrierRawProcessor:
    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        publish_many: PublishMany,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
        unmapped_log: UnmappedCodeLog | None = None,
    ) -> None:
        self._topics = topics
        self._limits = limits
        self._publish_many = publish_many
        self._clock = clock
        self._metrics = metrics
        self._dead_letter = DeadLetterMaker(topics.dead_letter, limits, metrics)
        self._unmapped_log = unmapped_log or UnmappedCodeLog()

    async def process_batch(self, messages: Sequence[InputMessage]) -> list[RawOutcome]:
        """Every message's scans or dead letter, published in message order and acknowledged;
        only then are they counted. If publishing fails nothing is counted: the batch is read
        again and publishes the same scans."""
        now = self._clock()
        outputs: list[OutputMessage] = []
        results = [self._read(message, now, outputs) for message in messages]
        if outputs:
            await self._publish_many(outputs)
        for result in results:
            self._count(result)
        return [result.outcome for result in results]

    def _read(self, message: InputMessage, now: datetime, outputs: list[OutputMessage]) -> _Result:
        source: CarrierSource | None = None
        try:
            raw = decode_carrier_raw(message.payload, now=now, limits=self._limits)
            source = raw.source
            scans = _read_payload(raw.payload_bytes(), raw.source)
        except Exception as error:
            outputs.append(self._dead_letter(message, error, now))
            return _Result(source, RawOutcome.DEAD_LETTERED)
        if not scans.histories and scans.errors:
            error = InvalidEvent(DeadLetterReason.INVALID_VALUE, _carrier_error(scans.errors))
            outputs.append(self._dead_letter(message, error, now))
            return _Result(source, RawOutcome.CARRIER_ERROR, scans)
        topic = self._topics.carrier_scans
        outputs += [
            OutputMessage(topic, scan.tracking_number.encode(), encode(scan))
            for scan in scans.normalized.scans
        ]
        found = RawOutcome.NORMALIZED if scans.normalized.scans else RawOutcome.EMPTY
        return _Result(source, found, scans)

    def _count(self, result: _Result) -> None:
        # Bounded labels: the contract's source names (or "unknown"), never payload values.
        source = result.source.value if result.source is not None else UNKNOWN_SOURCE
        self._metrics.carrier_raw_messages.labels(source, result.outcome.value).inc()
        scans = result.scans
        if scans is None:
            return
        self._metrics.carrier_raw_scans.labels(source).inc(len(scans.normalized.scans))
        self._metrics.carrier_errors.labels(source).inc(len(scans.errors))
        unmapped = scans.normalized.unmapped
        self._metrics.carrier_codes_unmapped.labels(source).inc(len(unmapped))
        for code in unmapped:
            self._unmapped_log.seen(scans.source, code.code)


def _read_payload(payload: bytes, source: CarrierSource) -> PayloadScans:
    try:
        return scans_from_payload(payload, source)
    except PayloadError as error:
        raise InvalidEvent(DeadLetterReason.INVALID_VALUE, f"payload: {error}") from None


def _carrier_error(errors: Sequence[CarrierError]) -> str:
    first = errors[0]
    words = f"carrier error {first.code or 'no code'}: {first.message}"
    if len(errors) > 1:
        words += f" (and {len(errors) - 1} more)"
    return words
