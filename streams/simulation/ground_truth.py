"""What a simulated journey should raise: its alerts by kind, from the simulator's own record of
the journey and the core's alert rules.

The simulator's truth about a journey is in its events: what happened and when (the scans, with
the exceptions, failed attempts, returns and lost parcels it injected, and the silences between
them), when the world heard of it (each event's ``emit_at``) and what was promised (the order).
The core's rules, applied to that timeline with a perfect timer (every silence judged the moment
it falls due), say which alerts are due. Pure: no clock, no I/O.

``delay_risk`` alerts come from a model, not from rules: this module never expects one.

Feedback carries its own truth: the simulator drew each piece from what happened to the shipment
and knows the flag it calls for (``feedback``); :func:`expected_feedback_flags` sums them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parcelwatch.schemas.feedback import FlagReason
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import (
    RETURN_ALERT_KINDS,
    AlertKind,
    ExceptionReason,
    Order,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.core.silence import SilencePolicy, check_silence, pending_silences
from parcelwatch.streams.core.tracking import Applied, apply_event
from parcelwatch.streams.simulation import SimulatedEvent, SimulatedFeedback

# Alert kinds a shipment's rules can be expected to raise (everything but the model's delay_risk
# and the order-level return and refund alerts, which simulated journeys do not have).
RULE_KINDS = tuple(
    kind
    for kind in AlertKind
    if kind is not AlertKind.DELAY_RISK and kind not in RETURN_ALERT_KINDS
)


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    kind: AlertKind
    due_at: datetime  # when the rule fires: the publication, or the moment a silence falls due
    # For a silence: how long before the next publication of the journey (which would have ended
    # it) it fell due; None for an alert raised by a publication, or with nothing published next.
    ahead_of_next: timedelta | None = None


def expected_alerts(
    journey: Sequence[SimulatedEvent], policy: SilencePolicy, *, until: datetime
) -> Counter[AlertKind]:
    """The alerts (by kind, each episode once) one shipment's events call for by ``until``.

    Events are applied in publication order, those published after ``until`` not at all; between
    two publications every silence that falls due before the next one fires, as a timer checking
    continuously would fire it. Silences falling due after ``until`` are not counted.
    """
    return Counter(alert.kind for alert in expected_alert_list(journey, policy, until=until))


def expected_alert_list(
    journey: Sequence[SimulatedEvent], policy: SilencePolicy, *, until: datetime
) -> list[ExpectedAlert]:
    """:func:`expected_alerts` one by one, with when each is due."""
    arrivals = sorted((item for item in journey if item.emit_at <= until), key=_published)
    expected: list[ExpectedAlert] = []
    state: ShipmentState | None = None
    for position, item in enumerate(arrivals):
        outcome = apply_event(state, item.event, item.emit_at)
        if isinstance(outcome, Applied):
            expected += (ExpectedAlert(alert.kind, item.emit_at) for alert in outcome.alerts)
        state = outcome.state
        following = arrivals[position + 1].emit_at if position + 1 < len(arrivals) else None
        while True:  # silences due before the next publication, in the order they fall due
            due = [
                silence.due_at
                for silence in pending_silences(state, policy)
                if silence.due_at <= until and (following is None or silence.due_at < following)
            ]
            if not due:
                break
            moment = min(due)
            alerts, state = check_silence(state, moment, policy)
            ahead = None if following is None else following - moment
            expected += (ExpectedAlert(alert.kind, moment, ahead) for alert in alerts)
    return expected


def expected_alert_mix(
    events: Iterable[SimulatedEvent],
    policy: SilencePolicy,
    *,
    until: datetime,
    close_call: timedelta = timedelta(0),
) -> tuple[Counter[AlertKind], Counter[AlertKind]]:
    """:func:`expected_alerts` summed over every journey in ``events`` (any order, mixed), and of
    those the silences falling due less than ``close_call`` before the journey's next publication
    (a timer that sweeps every ``close_call`` may find the silence already ended)."""
    total: Counter[AlertKind] = Counter()
    close: Counter[AlertKind] = Counter()
    for journey in by_journey(events).values():
        for alert in expected_alert_list(journey, policy, until=until):
            total[alert.kind] += 1
            if alert.ahead_of_next is not None and alert.ahead_of_next < close_call:
                close[alert.kind] += 1
    return total, close


def expected_feedback_flags(feedback: Iterable[SimulatedFeedback]) -> Counter[FlagReason]:
    """The flags (by reason) the feedback calls for: each piece's, as the simulator drew it from
    what happened to the shipment (``feedback``)."""
    return Counter(piece.expected_flag for piece in feedback)


def by_journey(events: Iterable[SimulatedEvent]) -> dict[bytes, list[SimulatedEvent]]:
    journeys: dict[bytes, list[SimulatedEvent]] = {}
    for item in events:
        journeys.setdefault(item.key, []).append(item)
    return journeys


@dataclass(frozen=True, slots=True)
class InjectedTrouble:
    """The troubles the simulator put into a set of journeys, as their published events show.

    (Whether a parcel with only a label will never be picked up, or a lost one never turns up
    again, the events of a journey cut at the present cannot tell: those are left out.)
    """

    journeys: int
    exceptions: int  # exception episodes (an exception scan each), storms' weather delays included
    weather: int  # of which weather delays
    failed_attempts: int
    returned: int  # journeys sent back to the sender
    late: int  # delivered after the promise


def injected_trouble(events: Iterable[SimulatedEvent]) -> InjectedTrouble:
    journeys = by_journey(events)
    exceptions = weather = attempts = returned = late = 0
    for journey in journeys.values():
        scans = _distinct_scans(journey)
        promises = [item.event.promised_by for item in journey if isinstance(item.event, Order)]
        exception_scans = [s for s in scans if s.status is ShipmentStatus.EXCEPTION]
        exceptions += len(exception_scans)
        weather += sum(s.reason is ExceptionReason.WEATHER_DELAY for s in exception_scans)
        attempts += sum(s.status is ShipmentStatus.ATTEMPT_FAILED for s in scans)
        returned += any(s.status is ShipmentStatus.RETURNING_TO_SENDER for s in scans)
        delivered = [s.occurred_at for s in scans if s.status is ShipmentStatus.DELIVERED]
        late += bool(promises and delivered) and min(delivered) > promises[-1]
    return InjectedTrouble(len(journeys), exceptions, weather, attempts, returned, late)


def _distinct_scans(journey: Sequence[SimulatedEvent]) -> list[Scan]:
    scans = {item.event.event_id: item.event for item in journey if isinstance(item.event, Scan)}
    return list(scans.values())


def _published(item: SimulatedEvent) -> datetime:
    return item.emit_at
