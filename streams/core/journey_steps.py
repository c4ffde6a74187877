"""The tracking page's progress bar: the journey's steps and how far the parcel got.

Forward: ordered → shipped → in transit → out for delivery (or ready to collect) → delivered.
A problem (a failed attempt, an exception, a lost parcel) takes the place of the step after the
furthest one reached (a failed attempt: delivery; a parcel lost in transit: the next step); a
parcel going back follows ordered → shipped → returning → returned; a cancelled one stops after
ordered. Computed from the answer's situation and its scans' statuses only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.types import ShipmentStatus

S = ShipmentStatus
ORDERED, SHIPPED = "ordered", "shipped"  # steps that are no situation of their own
FORWARD = (ORDERED, SHIPPED, "in_transit", "out_for_delivery", "delivered")
BACK = (ORDERED, SHIPPED, "returning", "returned")
STEP_NAMES = frozenset({*FORWARD, *BACK, *(situation.value for situation in Situation)})
# How far along FORWARD a scan of each status shows the parcel got. A carrier exception means
# the carrier has the parcel: shipped at least.
_REACHED = {
    S.INFO_RECEIVED: 0,
    S.PICKED_UP: 1,
    S.EXCEPTION: 1,
    S.RETURNING_TO_SENDER: 1,
    S.RETURNED_TO_SENDER: 1,
    S.IN_TRANSIT: 2,
    S.UNKNOWN: 2,
    S.OUT_FOR_DELIVERY: 3,
    S.AVAILABLE_FOR_PICKUP: 3,
    S.ATTEMPT_FAILED: 3,
    S.DELIVERED: 4,
}
_PROBLEMS = frozenset({Situation.ATTEMPT_FAILED, Situation.EXCEPTION, Situation.LOST})


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    PROBLEM = "problem"
    TODO = "todo"


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # a STEP_NAMES key of the page labels
    state: StepState


def journey_steps(situation: str, statuses: Iterable[str]) -> tuple[Step, ...]:
    """The steps for an answer's ``situation`` and its scans' ``statuses`` (unknown values are
    ignored: a newer worker may know more)."""
    if situation in (Situation.RETURNING, Situation.RETURNED):
        return _steps(BACK, BACK.index(situation), StepState.CURRENT)
    if situation == Situation.CANCELLED:
        return (Step(ORDERED, StepState.DONE), Step(Situation.CANCELLED.value, StepState.PROBLEM))
    names = list(FORWARD)
    if situation == Situation.AVAILABLE_FOR_PICKUP:
        names[3] = Situation.AVAILABLE_FOR_PICKUP.value
    if situation == Situation.DELIVERED:
        return _steps(names, len(names) - 1, StepState.DONE)
    reached = max((_REACHED[S(status)] for status in statuses if status in _REACHED), default=0)
    if situation in _PROBLEMS:  # the step the parcel did not get to is where it went wrong
        at = min(reached + 1, len(names) - 1)
        names[at] = situation
        return _steps(names, at, StepState.PROBLEM)
    return _steps(names, reached, StepState.CURRENT)


def _steps(names: Iterable[str], at: int, state: StepState) -> tuple[Step, ...]:
    return tuple(
        Step(str(name), StepState.DONE if i < at else state if i == at else StepState.TODO)
        for i, name in enumerate(names)
    )
