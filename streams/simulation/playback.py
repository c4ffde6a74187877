"""Simulated journeys played on the live clock: shifted so the first event is published now, and
compressed so days of simulated time pass in seconds.

Pure: a function of the journeys' events, the compression factor and ``now``. Every timestamp an
event carries (publication, scan and order times, promise, estimated delivery, when feedback
was received) goes through the
same mapping, so the gaps between them keep their meaning, divided by the factor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from parcelwatch.schemas.carrier_raw import RawCarrierPayload
from parcelwatch.schemas.feedback import Feedback
from parcelwatch.schemas.types import Order, Scan
from parcelwatch.streams.simulation import SimulatedEvent


def compression_factor(simulated: timedelta, played: timedelta) -> float:
    """How many simulated seconds pass per played second, to play ``simulated`` in ``played``."""
    if simulated <= timedelta(0) or played <= timedelta(0):
        raise ValueError("both spans must be positive")
    return simulated / played


def compress_timeline(
    events: Sequence[SimulatedEvent], *, factor: float, now: datetime
) -> list[SimulatedEvent]:
    """``events`` with every timestamp mapped onto the live clock: the earliest publication
    (``emit_at``) becomes ``now``, and a simulated span of ``factor`` seconds lasts one second.

    Offsets are kept (a scan read in local time still reads in local time). Order preserved.
    """
    if factor <= 0:
        raise ValueError("factor must be positive")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not events:
        return []
    origin = playback_origin(events)

    def shift(moment: datetime) -> datetime:
        return played_at(moment, origin=origin, factor=factor, now=now)

    return [
        replace(item, event=_shifted(item.event, shift), emit_at=shift(item.emit_at))
        for item in events
    ]


def playback_origin(events: Sequence[SimulatedEvent]) -> datetime:
    """The simulated moment played at ``now``: the earliest publication."""
    return min(event.emit_at for event in events)


def played_at(moment: datetime, *, origin: datetime, factor: float, now: datetime) -> datetime:
    """Where a simulated ``moment`` lands on the live clock (as :func:`compress_timeline` maps it,
    ``origin`` being the earliest publication of the played events)."""
    return (now + (moment - origin) / factor).astimezone(moment.tzinfo)


def _shifted(
    event: Order | Scan | Feedback | RawCarrierPayload, shift: Callable[[datetime], datetime]
) -> Order | Scan | Feedback:
    if isinstance(event, Feedback):
        return replace(event, received_at=shift(event.received_at))
    if isinstance(event, RawCarrierPayload):
        # Its times are inside the payload's text: render raw payloads after compressing.
        raise TypeError("compress the canonical events, then render them as raw payloads")
    if isinstance(event, Order):
        return replace(
            event, ordered_at=shift(event.ordered_at), promised_by=shift(event.promised_by)
        )
    estimate = event.estimated_delivery
    return replace(
        event,
        occurred_at=shift(event.occurred_at),
        estimated_delivery=None if estimate is None else shift(estimate),
    )
