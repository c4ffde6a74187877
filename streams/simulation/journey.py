"""One shipment's journey: the scan steps drawn from its plan and the trouble it meets."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from parcelwatch.schemas.types import ExceptionReason, ShipmentStatus
from parcelwatch.streams.simulation.business_days import (
    _add_days,
    _delivery_day_from,
    _is_business_day,
    _next_business_day,
)
from parcelwatch.streams.simulation.carriers import (
    _CARRIERS,
    _DELAY_DAYS,
    _DOMESTIC_REASONS,
    _INTERNATIONAL_REASONS,
    _LOST_FOR_GOOD,
)
from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.clock import _at, _hours, _whole_seconds
from parcelwatch.streams.simulation.config import SimulationConfig
from parcelwatch.streams.simulation.geography import _Area, _route
from parcelwatch.streams.simulation.storms import _storm_over

_R = ExceptionReason


@dataclass(frozen=True, slots=True)
class _Plan:
    index: int
    carrier: str
    service: str
    origin: _Area
    destination: _Area
    destination_postal: str
    km: float
    international: bool
    nominal_days: int
    tracking: str


@dataclass(slots=True)
class _Step:
    """A scan to be: what (``words`` key), status, when (UTC) and where."""

    words: str
    status: ShipmentStatus
    at: datetime
    area: _Area
    reason: ExceptionReason | None = None
    estimate: datetime | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class _Hold:
    """A storm holding the parcel at a stop: 0 the origin, 1..n the hubs, n + 1 the destination."""

    stop: int
    area: _Area
    reached: datetime  # when the parcel got to the stop (nominally)
    left: datetime  # when it would have left without the storm
    began: datetime  # when the storm stopped it
    released: datetime  # when it moves on (the storm, or the parcel's share of it, and backlog)
    report: bool  # whether the carrier scans a weather exception


@dataclass(frozen=True, slots=True)
class _Outcomes:
    """The trouble a shipment meets, drawn before anything else."""

    never_picked_up: bool
    returned: bool
    exception: bool  # a carrier exception episode
    failed_attempts: int


@dataclass(frozen=True, slots=True)
class _Episode:
    """A carrier exception episode: why, the delivery days it costs, whether the parcel is lost."""

    reason: ExceptionReason
    delay: int
    lost_for_good: bool


_CUTOFF_HOUR = 14  # orders placed before this (warehouse local time) on a business day ship today
_HANDLING_SLIP = 0.03  # chance the parcel misses its pickup and waits 1-2 business days


class _Journey:
    """Builds the scan steps of one shipment from its plan and the trouble drawn for it."""

    def __init__(
        self, rng: random.Random, plan: _Plan, config: SimulationConfig, ordered_at: datetime
    ) -> None:
        self.rng = rng
        self.plan = plan
        self.config = config
        self.ordered_at = ordered_at
        self.carrier = _CARRIERS[plan.carrier]
        self.saturday = plan.destination.country in self.carrier.saturday
        self.out: list[_Step] = []

    def steps(self) -> list[_Step]:
        """The scan steps of the whole journey, in event-time order.

        Each helper below draws one thing; they run in a fixed order (the outcomes first), so each
        shipment's randomness, and hence its journey, is stable.
        """
        plan, origin, dest = self.plan, self.plan.origin, self.plan.destination
        outcomes = self.draw_outcomes()
        ship_day = self.create_label()
        if outcomes.never_picked_up:
            self.maybe_void_label(ship_day)
            return self.finish()
        pickup_day = self.pickup_day(ship_day)
        pickup_at = self.pickup_time(pickup_day)
        transit = self.transit_days()
        episode = self.draw_episode() if outcomes.exception else None
        first_estimate = _at(self.add_days(pickup_day, plan.nominal_days), 21.0, dest)
        day = self.add_days(pickup_day, transit + (episode.delay if episode else 0))

        self.add("pickup", ShipmentStatus.PICKED_UP, pickup_at, origin, estimate=first_estimate)
        arrived, departed = self.through_origin(pickup_at)
        at_destination = self.reach_destination(day, not_before=departed + _hours(2.0))
        hubs = _route(plan)
        # A storm on the way holds the parcel; the carrier reports it unless another exception
        # episode is already under way (one episode per shipment).
        hold = self.storm_hold(
            hubs, (pickup_at, arrived, departed), at_destination, day, report=episode is None
        )
        planned_day = day
        held_at_destination = hold if hold is not None and hold.stop == len(hubs) + 1 else None
        if held_at_destination is not None:  # the round waits for the storm
            day = _delivery_day_from(
                held_at_destination.released + _hours(0.5), dest, self.saturday
            )
        elif hold is not None:
            day, at_destination = self.after_hold_on_the_way(hold, at_destination)
        final_estimate = _at(day, 21.0, dest)

        transit_steps = self.transit_steps(hubs, departed, at_destination, hold)
        if episode is not None:
            transit_steps = self.with_exception(transit_steps, episode, departed, at_destination)
            if episode.lost_for_good:
                self.out.extend(transit_steps)
                return self.finish()
        self.add_transit(transit_steps, first_estimate, final_estimate)
        self.add_destination_facility(
            at_destination, held_at_destination, _at(planned_day, 21.0, dest), final_estimate
        )
        if outcomes.returned:
            self.deliver_or_return(day, 0, return_reason=self.draw_return_reason())
        else:
            self.deliver_or_return(day, outcomes.failed_attempts, return_reason=None)
        return self.finish()

    def draw_outcomes(self) -> _Outcomes:
        """Which trouble the shipment meets, drawn before anything else."""
        rng, config = self.rng, self.config
        never_picked_up = rng.random() < config.never_picked_up_rate
        returned = rng.random() < config.return_rate
        exception = rng.random() < min(1.0, config.exception_rate * self.carrier.exception_factor)
        failed_attempts = 0
        if rng.random() < config.failed_attempt_rate:
            failed_attempts = 1 if rng.random() < 0.75 else 2
        return _Outcomes(never_picked_up, returned, exception, failed_attempts)

    def create_label(self) -> date:
        """The merchant's label scan; returns the day it ships: the order day if the order came in
        before the cutoff on a business day, else the next business day (at the warehouse)."""
        rng, origin = self.rng, self.plan.origin
        ordered_local = self.ordered_at.astimezone(origin.zone)
        home = origin.country  # the warehouse and the pickup keep the origin's holidays
        if _is_business_day(ordered_local.date(), home) and ordered_local.hour < _CUTOFF_HOUR:
            ship_day = ordered_local.date()
            latest = _at(ship_day, 15.5, origin)
            label_at = min(self.ordered_at + _hours(rng.uniform(0.5, 3.5)), latest)
        else:
            ship_day = _next_business_day(ordered_local.date(), home)
            label_at = _at(ship_day, rng.uniform(8.0, 13.0), origin)
        self.add("label", ShipmentStatus.INFO_RECEIVED, label_at, origin)
        return ship_day

    def maybe_void_label(self, ship_day: date) -> None:
        """A parcel never handed over: carriers that show voided labels sometimes show this one."""
        rng, origin = self.rng, self.plan.origin
        if self.carrier.cancels and rng.random() < 0.3:
            void_day = _add_days(ship_day, rng.randint(2, 5), False, origin.country)
            voided = _at(void_day, rng.uniform(9, 17), origin)
            self.add("cancelled", ShipmentStatus.CANCELLED, voided, origin)

    def pickup_day(self, ship_day: date) -> date:
        """The ship day, unless the parcel misses its pickup and waits a business day or two."""
        if self.rng.random() < _HANDLING_SLIP:
            return _add_days(ship_day, self.rng.choice((1, 1, 2)), False, self.plan.origin.country)
        return ship_day

    def pickup_time(self, pickup_day: date) -> datetime:
        """When the carrier collects the parcel: its late-afternoon round at the warehouse."""
        return _at(pickup_day, self.rng.uniform(16.5, 19.0), self.plan.origin)

    def transit_days(self) -> int:
        """The delivery days this parcel takes: the nominal transit, sometimes a day or two more
        (the carrier runs behind), on multi-day ground lanes sometimes a day less."""
        plan = self.plan
        slip = self.rng.random()
        late_chance = self.carrier.late / (2 if plan.service == "express" else 1)
        if slip < late_chance * 0.2:
            return plan.nominal_days + 2
        if slip < late_chance:
            return plan.nominal_days + 1
        if (
            plan.nominal_days >= 2
            and plan.service in ("ground", "economy")
            and slip > 1 - self.carrier.early
        ):
            return plan.nominal_days - 1
        return plan.nominal_days

    def draw_episode(self) -> _Episode:
        """The carrier exception episode: its reason, the days it costs, whether it is for good."""
        rng = self.rng
        reason = _weighted(
            rng, _INTERNATIONAL_REASONS if self.plan.international else _DOMESTIC_REASONS
        )
        delay = rng.choice(_DELAY_DAYS[reason])
        lost_for_good = reason is _R.LOST and rng.random() < _LOST_FOR_GOOD
        return _Episode(reason, delay, lost_for_good)

    def through_origin(self, pickup_at: datetime) -> tuple[datetime, datetime]:
        """The arrival scan at the carrier's origin facility; returns its arrival and departure."""
        origin = self.plan.origin
        arrived = pickup_at + _hours(self.rng.uniform(1.0, 2.5))
        self.add("arrive", ShipmentStatus.IN_TRANSIT, arrived, origin)
        departed = arrived + _hours(self.rng.uniform(1.5, 4.0))
        return arrived, departed

    def reach_destination(self, day: date, *, not_before: datetime) -> datetime:
        """When the parcel reaches the delivery facility: early on ``day``, not before
        ``not_before``."""
        return max(_at(day, self.rng.uniform(3.0, 6.5), self.plan.destination), not_before)

    def after_hold_on_the_way(self, hold: _Hold, at_destination: datetime) -> tuple[date, datetime]:
        """The delivery day and the arrival at the delivery facility after a storm held the parcel
        on the way: everything after the stop runs late by the hold, less some slack."""
        dest = self.plan.destination
        slack = _hours(self.rng.uniform(0.0, 8.0))
        earliest = max(
            at_destination + max(hold.released - hold.left - slack, timedelta(0)),
            hold.released + _hours(3.0),
        )
        day = _delivery_day_from(earliest, dest, self.saturday)
        return day, self.reach_destination(day, not_before=earliest)

    def add_transit(
        self, steps: list[_Step], first_estimate: datetime, final_estimate: datetime
    ) -> None:
        """Add the transit scans; some carry the delivery estimate, revised once the parcel has
        been held."""
        estimate = first_estimate
        for step in steps:
            if step.words == "resumed" or step.status is ShipmentStatus.EXCEPTION:
                estimate = final_estimate
            if step.status is ShipmentStatus.IN_TRANSIT and self.rng.random() < 0.4:
                step.estimate = estimate
            self.out.append(step)

    def add_destination_facility(
        self,
        at: datetime,
        held_here: _Hold | None,
        planned_estimate: datetime,
        final_estimate: datetime,
    ) -> None:
        """The arrival scan at the delivery facility, and the storm hold there if there is one
        (the arrival still shows the planned delivery; the resumption shows the new one)."""
        dest = self.plan.destination
        if held_here is None:
            self.add("facility", ShipmentStatus.IN_TRANSIT, at, dest, estimate=final_estimate)
            return
        self.add("facility", ShipmentStatus.IN_TRANSIT, at, dest, estimate=planned_estimate)
        if held_here.report:
            weather = _R.WEATHER_DELAY
            self.add("exception", ShipmentStatus.EXCEPTION, held_here.began, dest, weather)
            released = held_here.released
            self.add("resumed", ShipmentStatus.IN_TRANSIT, released, dest, estimate=final_estimate)

    def draw_return_reason(self) -> ExceptionReason:
        """Why a returned parcel goes back: refused, or an address that could not be corrected."""
        return self.rng.choice((_R.REFUSED, _R.ADDRESS_ISSUE))

    def add(
        self,
        words: str,
        status: ShipmentStatus,
        at: datetime,
        area: _Area,
        reason: ExceptionReason | None = None,
        estimate: datetime | None = None,
        postal_code: str | None = None,
    ) -> None:
        self.out.append(_Step(words, status, at, area, reason, estimate, postal_code))

    def add_days(self, day: date, days: int) -> date:
        """``days`` delivery days after ``day`` in the destination."""
        return _add_days(day, days, self.saturday, self.plan.destination.country)

    def storm_hold(
        self,
        hubs: list[_Area],
        at_origin: tuple[datetime, datetime, datetime],
        at_destination: datetime,
        day: date,
        *,
        report: bool,
    ) -> _Hold | None:
        """Where the first storm on the way catches the parcel, if one does, and for how long.

        The stops are the origin (from the pickup to the departure from the carrier's facility
        there; ``at_origin`` is pickup, arrival at and departure from that facility), each hub
        (around its nominal arrival, spread as :meth:`hub_steps` spreads them) and the destination
        (from the arrival at the delivery facility to noon on the delivery day: the round is
        called off). Only the first storm met holds the parcel.
        """
        plan, config = self.plan, self.config
        if config.storm_rate == 0:
            return None
        picked_up, arrived, departed = at_origin
        slot = (at_destination - departed) / (len(hubs) + 1)
        stops = [(plan.origin, picked_up, departed)]
        for position, hub in enumerate(hubs, start=1):
            reached = departed + slot * position - slot * 0.3
            stops.append((hub, reached, reached + min(slot * 0.5, _hours(3.0))))
        noon = _at(day, 12.0, plan.destination)
        stops.append((plan.destination, at_destination, max(noon, at_destination)))
        for stop, (area, reached, left) in enumerate(stops):
            storm = _storm_over(config.seed, config.storm_rate, area, reached, left)
            if storm is None:
                continue
            rng = self.rng
            # the parcel is held where a facility can scan it: at the origin, once it arrived there
            at_facility = arrived if stop == 0 else reached
            began = max(at_facility, storm.start) + _hours(rng.uniform(0.25, 1.5))
            remaining = max(storm.end - began, timedelta(0))
            backlog = _hours(rng.uniform(3.0, 10.0))
            released = began + remaining * storm.severity * rng.uniform(0.6, 1.0) + backlog
            scanned = report and rng.random() < 0.55 + 0.4 * storm.severity
            return _Hold(stop, area, reached, left, began, released, scanned)
        return None

    def transit_steps(
        self, hubs: list[_Area], departed: datetime, at_destination: datetime, hold: _Hold | None
    ) -> list[_Step]:
        """The origin's departure and the hub scans, with the storm hold if it is on the way."""
        origin, dest = self.plan.origin, self.plan.destination
        if hold is None or hold.stop > len(hubs):
            depart = _Step("depart", ShipmentStatus.IN_TRANSIT, departed, origin)
            hub_steps = self.hub_steps(hubs, departed, at_destination, import_country=dest.country)
            return [depart, *hub_steps]
        steps: list[_Step] = []
        if hold.stop > 0:  # held at a hub: the hubs before it, then its arrival
            steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, departed, origin))
            before = hubs[: hold.stop - 1]
            steps += self.hub_steps(before, departed, hold.reached, import_country=dest.country)
            steps.append(_Step("arrive", ShipmentStatus.IN_TRANSIT, hold.reached, hold.area))
            if self.plan.international and hold.area.country == dest.country:
                cleared = hold.reached + (hold.began - hold.reached) * 0.5
                steps.append(_Step("cleared", ShipmentStatus.IN_TRANSIT, cleared, hold.area))
        if hold.report:
            weather = _R.WEATHER_DELAY
            steps.append(
                _Step("exception", ShipmentStatus.EXCEPTION, hold.began, hold.area, weather)
            )
            steps.append(_Step("resumed", ShipmentStatus.IN_TRANSIT, hold.released, hold.area))
        left = hold.released + _hours(self.rng.uniform(0.5, 1.5))
        steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, left, hold.area))
        after = hubs[hold.stop :]
        return steps + self.hub_steps(after, left, at_destination, import_country=dest.country)

    def hub_steps(
        self, hubs: list[_Area], start: datetime, end: datetime, *, import_country: str
    ) -> list[_Step]:
        """Arrival and departure scans at each hub, spread between ``start`` and ``end``.

        On international lanes the gateway in ``import_country`` also clears customs.
        """
        steps: list[_Step] = []
        slot = (end - start) / (len(hubs) + 1)
        for position, hub in enumerate(hubs, start=1):
            arrive = start + slot * position - slot * self.rng.uniform(0.2, 0.4)
            depart = arrive + min(slot * 0.5, _hours(self.rng.uniform(1.5, 4.0)))
            steps.append(_Step("arrive", ShipmentStatus.IN_TRANSIT, arrive, hub))
            if self.plan.international and hub.country == import_country:
                cleared = arrive + (depart - arrive) / 2
                steps.append(_Step("cleared", ShipmentStatus.IN_TRANSIT, cleared, hub))
            steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, depart, hub))
        return steps

    def with_exception(
        self,
        steps: list[_Step],
        episode: _Episode,
        start: datetime,
        end: datetime,
    ) -> list[_Step]:
        """Insert an exception episode: the exception, a hold, then the parcel moves on."""
        rng, reason = self.rng, episode.reason
        window = end - start
        customs = reason in (_R.CUSTOMS_DELAY, _R.HELD_FOR_PAYMENT)
        gateway = next((i for i, s in enumerate(steps) if s.words == "cleared"), None)
        if customs and gateway is not None:  # held on arrival at the import gateway
            arrived, cleared = steps[gateway - 1].at, steps[gateway].at
            began = arrived + (cleared - arrived) * rng.uniform(0.3, 0.7)
        else:
            began = start + window * rng.uniform(0.05, 0.3)
        if episode.delay:
            hold = _hours(24 * episode.delay * rng.uniform(0.55, 0.9))
        else:
            hold = _hours(rng.uniform(2.0, 8.0))
        hold = min(hold, (end - began) * 0.8)
        kept_before = [s for s in steps if s.at < began]
        area = kept_before[-1].area if kept_before else self.plan.origin
        if gateway is not None and customs:
            area = steps[gateway].area
        elif reason is _R.ADDRESS_ISSUE:
            area = self.plan.destination
        exception = _Step("exception", ShipmentStatus.EXCEPTION, began, area, reason)
        if episode.lost_for_good:
            return [*kept_before, exception]
        resumed_words = "cleared" if customs else "resumed"
        resumed = _Step(resumed_words, ShipmentStatus.IN_TRANSIT, began + hold, area)
        kept_after = [
            s for s in steps if s.at > resumed.at and not (customs and s.words == "cleared")
        ]
        moved_on: list[_Step] = []
        if area is not self.plan.destination:  # it leaves the facility where it was held
            following = kept_after[0].at if kept_after else end
            left = resumed.at + min(_hours(rng.uniform(1.0, 3.0)), (following - resumed.at) / 2)
            moved_on.append(_Step("depart", ShipmentStatus.IN_TRANSIT, left, area))
            kept_after = [s for s in kept_after if not (s.area is area and s.words == "depart")]
        return [*kept_before, exception, resumed, *moved_on, *kept_after]

    def deliver_or_return(
        self, day: date, failed_attempts: int, return_reason: ExceptionReason | None
    ) -> None:
        rng, dest, postal = self.rng, self.plan.destination, self.plan.destination_postal
        for _ in range(failed_attempts):
            out_at = _at(day, rng.uniform(7.0, 9.5), dest)
            self.add(
                "ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest)
            )
            why = _R.RECIPIENT_UNAVAILABLE if rng.random() < 0.8 else _R.ADDRESS_ISSUE
            failed = _at(day, rng.uniform(10.0, 19.0), dest)
            self.add(
                "attempt", ShipmentStatus.ATTEMPT_FAILED, failed, dest, why, postal_code=postal
            )
            day = self.add_days(day, 1)
        if return_reason is not None:
            out_at = _at(day, rng.uniform(7.0, 9.5), dest)
            self.add(
                "ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest)
            )
            at_door = _at(day, rng.uniform(10.0, 19.0), dest)
            if return_reason is _R.ADDRESS_ISSUE:
                self.add(
                    "attempt",
                    ShipmentStatus.ATTEMPT_FAILED,
                    at_door,
                    dest,
                    _R.ADDRESS_ISSUE,
                    None,
                    postal,
                )
                day = self.add_days(day, 1)
                at_door = _at(day, rng.uniform(8.0, 11.0), dest)
            self.add("return", ShipmentStatus.RETURNING_TO_SENDER, at_door, dest, return_reason)
            self.return_trip(day, at_door, return_reason)
            return
        if failed_attempts and rng.random() < 0.35:  # held at a pickup point or post office
            ready = _at(day, rng.uniform(9.0, 12.0), dest)
            self.add("ready", ShipmentStatus.AVAILABLE_FOR_PICKUP, ready, dest, postal_code=postal)
            collect_day = _add_days(day, rng.choice((0, 1, 1, 2, 3)), True, dest.country)
            earliest = 13.0 if collect_day == day else 9.0
            collected = _at(collect_day, rng.uniform(earliest, 19.0), dest)
            self.add("collected", ShipmentStatus.DELIVERED, collected, dest, postal_code=postal)
            return
        out_hour = rng.uniform(7.0, 9.5)
        out_at = _at(day, out_hour, dest)
        self.add("ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest))
        delivered = _at(day, rng.uniform(out_hour + 0.75, 19.5), dest)
        self.add("delivered", ShipmentStatus.DELIVERED, delivered, dest, postal_code=postal)

    def return_trip(self, day: date, started: datetime, reason: ExceptionReason) -> None:
        rng, plan = self.rng, self.plan
        back_day = _add_days(day, plan.nominal_days + 1, False, plan.origin.country)
        back_at = _at(back_day, rng.uniform(10.0, 16.0), plan.origin)
        departed = started + _hours(rng.uniform(3.0, 8.0))
        self.add("depart", ShipmentStatus.IN_TRANSIT, departed, plan.destination)
        hubs = _route(plan, reverse=True)
        self.out.extend(self.hub_steps(hubs, departed, back_at, import_country=plan.origin.country))
        self.add("returned", ShipmentStatus.RETURNED_TO_SENDER, back_at, plan.origin, reason)

    def finish(self) -> list[_Step]:
        """Make event times strictly increasing, whole seconds (scanners tick, clocks drift)."""
        previous: datetime | None = None
        for step in self.out:
            at = _whole_seconds(step.at)
            if previous is not None and at <= previous:
                at = previous + timedelta(seconds=self.rng.randint(60, 240))
            step.at = previous = at
        return self.out
