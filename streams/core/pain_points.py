"""Pain points: one carrier's flagged feedback counted in UTC windows, summaries and spikes.

Windows are UTC calendar hours and UTC days (00:00 to 24:00 UTC), chosen by the feedback's
``received_at`` (event time). A window stays open until its end plus a grace period has passed
on the worker's clock (``close_due``); a tally for a window already closed is a *late arrival*:
counted in the next summary's ``late_arrivals``, never re-opening the window.

Every piece of feedback is counted once per window: the day window keeps a digest of each
feedback id it counted (the hour window lies inside it), so a redelivered tally is a duplicate.

Closed windows leave their negative counts per (topic, region), and per topic over all regions,
in a trailing history; a closing window's count is compared with the mean of the windows before
it (zeros where there was no feedback) for spikes (``SpikePolicy``).

Memory is bounded whatever the input: open windows per size, regions per window (the rest are
counted as "other"), remembered feedback ids per day, and history windows are all capped.

``record_tally`` updates the state it is given (the caller's working copy, decoded from the
table); ``close_due`` leaves its input alone and returns a new state.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.pain_points import (
    ALL_REGIONS,
    KeyCount,
    PainPointCount,
    PainPointSpike,
    PainPointSummary,
    Window,
    WindowSize,
)

STATE_VERSION = 1

# Only feedback that reports a problem counts toward spikes.
NEGATIVE_REASONS = frozenset(
    {
        FlagReason.LOGISTICS_PAIN,
        FlagReason.DISPUTED_DELIVERY,
        FlagReason.UNEXPLAINED_DELIVERY_COMPLAINT,
        FlagReason.PRODUCT_ISSUE,
    }
)
WINDOW_LENGTH = {WindowSize.HOUR: timedelta(hours=1), WindowSize.DAY: timedelta(days=1)}
BASELINE_WINDOWS = {WindowSize.HOUR: 24, WindowSize.DAY: 7}  # the trailing mean's span
HISTORY_WINDOWS = {WindowSize.HOUR: 48, WindowSize.DAY: 8}  # kept: the span and some slack
# Open at once: a day of hours plus a backlog's grace; a week of days (a replayed backlog).
MAX_OPEN_WINDOWS = {WindowSize.HOUR: 72, WindowSize.DAY: 8}
MAX_REGIONS_PER_WINDOW = 100
OTHER_REGION = "other"  # regions beyond the cap, counted together
MAX_IDS_PER_DAY = 20_000  # beyond it a day still counts, but no longer spots duplicates
_NO_TOPIC = ""


@dataclass(frozen=True)
class SpikePolicy:
    """When a window's count of negative feedback on one topic is a spike."""

    min_count: int = 5
    factor: float = 3.0  # count >= factor x the trailing mean
    # A Poisson process at the trailing mean gives this count or more at most this often: a
    # count that merely triples a mean of 1.5 happens by chance too often to page anyone.
    max_tail_probability: float = 0.01
    # The rate assumed in that test at least: a zero mean over a few windows is weak evidence
    # of a zero rate.
    baseline_floor: float = 0.5


class TallyOutcome(StrEnum):
    COUNTED = "counted"  # in its hour and its day
    LATE_FOR_HOUR = "late_for_hour"  # in its day; its hour had closed
    LATE = "late"  # its day had closed: in no window
    DUPLICATE = "duplicate"  # already counted (a redelivery)


@dataclass
class OpenWindow:
    start: datetime
    rows: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # topic, region, reason
    regions: Counter[tuple[str, str]] = field(default_factory=Counter)  # region, reason
    feedback_ids: set[str] = field(default_factory=set)  # digests; kept by day windows only

    @property
    def total(self) -> int:
        return sum(self.regions.values())

    def region_for(self, region: str) -> str:
        known = {name for name, _ in self.regions}
        if region in known or len(known) < MAX_REGIONS_PER_WINDOW:
            return region
        return OTHER_REGION

    def add(self, tally: FeedbackTally) -> None:
        region = self.region_for(tally.region)
        reason = str(tally.reason)
        for topic in tally.topics or (_NO_TOPIC,):
            self.rows[str(topic), region, reason] += 1
        self.regions[region, reason] += 1

    def negative_counts(self) -> dict[tuple[str, str], int]:
        """Negative feedback per (topic, region) and per (topic, "all")."""
        counts: Counter[tuple[str, str]] = Counter()
        for (topic, region, reason), count in self.rows.items():
            if topic != _NO_TOPIC and reason in NEGATIVE_REASONS:
                counts[topic, region] += count
                counts[topic, ALL_REGIONS] += count
        return dict(counts)


@dataclass
class WindowSeries:
    """One carrier's windows of one size: open ones, and the history of closed ones."""

    size: WindowSize
    open: dict[datetime, OpenWindow] = field(default_factory=dict)
    closed_until: datetime | None = None  # end of the latest closed window
    tracked_since: datetime | None = None  # start of the first window ever opened
    late: int = 0  # late arrivals since the last summary
    # window start -> negative counts per (topic, region); windows without any are left out
    history: dict[datetime, dict[tuple[str, str], int]] = field(default_factory=dict)

    @property
    def length(self) -> timedelta:
        return WINDOW_LENGTH[self.size]

    def window_for(self, start: datetime) -> OpenWindow | None:
        """The open window at ``start``, opened if need be; None when it closed already (or
        too many are open)."""
        window = self.open.get(start)
        if window is not None:
            return window
        if self.closed_until is not None and start + self.length <= self.closed_until:
            return None
        if len(self.open) >= MAX_OPEN_WINDOWS[self.size]:
            return None
        window = self.open[start] = OpenWindow(start)
        if self.tracked_since is None or start < self.tracked_since:
            self.tracked_since = start
        return window


@dataclass
class PainPointWindows:
    """A carrier's pain-point state, stored in the ``pain_point_windows`` table by carrier."""

    carrier: str
    hourly: WindowSeries = field(default_factory=lambda: WindowSeries(WindowSize.HOUR))
    daily: WindowSeries = field(default_factory=lambda: WindowSeries(WindowSize.DAY))
    home_partition: int | None = None  # where the state lives, so close requests reach it

    def series(self) -> tuple[WindowSeries, WindowSeries]:
        return (self.hourly, self.daily)


@dataclass(frozen=True, slots=True)
class Closing:
    state: PainPointWindows
    summaries: tuple[PainPointSummary, ...]
    spikes: tuple[PainPointSpike, ...]


def window_start(size: WindowSize, moment: datetime) -> datetime:
    """The start of the UTC hour or UTC day holding ``moment``."""
    utc = moment.astimezone(UTC)
    if size is WindowSize.HOUR:
        return utc.replace(minute=0, second=0, microsecond=0)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def _digest(feedback_id: str) -> str:
    return hashlib.sha256(feedback_id.encode("utf-8")).hexdigest()[:16]


def record_tally(state: PainPointWindows, tally: FeedbackTally) -> TallyOutcome:
    """Count ``tally`` in its hour and its day (``state`` is updated in place)."""
    day = state.daily.window_for(window_start(WindowSize.DAY, tally.received_at))
    if day is None:
        state.daily.late += 1
        state.hourly.late += 1
        return TallyOutcome.LATE
    digest = _digest(tally.feedback_id)
    if digest in day.feedback_ids:
        return TallyOutcome.DUPLICATE
    if len(day.feedback_ids) < MAX_IDS_PER_DAY:
        day.feedback_ids.add(digest)
    day.add(tally)
    hour = state.hourly.window_for(window_start(WindowSize.HOUR, tally.received_at))
    if hour is None:
        state.hourly.late += 1
        return TallyOutcome.LATE_FOR_HOUR
    hour.add(tally)
    return TallyOutcome.COUNTED


def due_at(state: PainPointWindows, grace: timedelta) -> datetime | None:
    """When the next open window is due to close (None: nothing is open)."""
    ends = [start + series.length for series in state.series() for start in series.open]
    return min(ends) + grace if ends else None


def close_due(
    state: PainPointWindows, now: datetime, grace: timedelta, policy: SpikePolicy
) -> Closing:
    """Close every window whose end + ``grace`` has passed, oldest first: its summary, the
    spikes in it, and the state with the window moved into the trailing history."""
    hourly, daily = (_copy_series(series) for series in state.series())
    due = sorted(
        (start + series.length, index, start, series)
        for index, series in enumerate((hourly, daily))
        for start in series.open
        if start + series.length + grace <= now
    )
    summaries: list[PainPointSummary] = []
    spikes: list[PainPointSpike] = []
    for _, _, start, series in due:
        window = series.open.pop(start)
        summaries.append(_summary(state.carrier, series, window, now))
        series.late = 0
        counts = window.negative_counts()
        spikes += _spikes(state.carrier, series, window, counts, now, policy)
        _remember(series, start, counts)
    new_state = replace(state, hourly=hourly, daily=daily)
    return Closing(new_state, tuple(summaries), tuple(spikes))


def _copy_series(series: WindowSeries) -> WindowSeries:
    # Closing only removes open windows and replaces history entries: shallow copies suffice.
    return replace(series, open=dict(series.open), history=dict(series.history))


def _remember(series: WindowSeries, start: datetime, counts: dict[tuple[str, str], int]) -> None:
    end = start + series.length
    if series.closed_until is None or end > series.closed_until:
        series.closed_until = end
    if counts:
        series.history[start] = counts
    assert series.closed_until is not None
    oldest = series.closed_until - HISTORY_WINDOWS[series.size] * series.length
    for kept in [kept for kept in series.history if kept < oldest]:
        del series.history[kept]


def _window(series: WindowSeries, start: datetime) -> Window:
    return Window(size=series.size, start=start, end=start + series.length)


def _sorted_counts(counter: Counter[str]) -> tuple[KeyCount, ...]:
    return tuple(KeyCount(key, count) for key, count in sorted(counter.items(), key=_by_count))


def _by_count(item: tuple[Any, int]) -> tuple[int, Any]:
    return (-item[1], item[0])


def _summary(
    carrier: str, series: WindowSeries, window: OpenWindow, now: datetime
) -> PainPointSummary:
    by_topic: Counter[str] = Counter()
    for (topic, _, _), count in window.rows.items():
        if topic != _NO_TOPIC:
            by_topic[topic] += count
    by_region: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for (region, reason), count in window.regions.items():
        by_region[region] += count
        by_reason[reason] += count
    rows = sorted(window.rows.items(), key=_by_count)
    return PainPointSummary(
        summary_id=deterministic_id(
            "pain-point-summary", carrier, series.size.value, window.start.isoformat()
        ),
        carrier=carrier,
        window=_window(series, window.start),
        total=window.total,
        counts=tuple(
            PainPointCount(
                topic=FeedbackTopic(topic) if topic != _NO_TOPIC else None,
                region=region,
                reason=FlagReason(reason),
                count=count,
            )
            for (topic, region, reason), count in rows
        ),
        by_topic=_sorted_counts(by_topic),
        by_region=_sorted_counts(by_region),
        by_reason=_sorted_counts(by_reason),
        late_arrivals=series.late,
        closed_at=now,
    )


def baseline_slots(series: WindowSeries, start: datetime) -> list[datetime]:
    """The trailing windows a window at ``start`` is compared with: those of the span that
    began after the carrier was first seen (earlier ones are unknown, not zero)."""
    slots = (start - back * series.length for back in range(1, BASELINE_WINDOWS[series.size] + 1))
    since = series.tracked_since
    return [slot for slot in slots if since is not None and slot >= since]


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_first = -mean + count * math.log(mean) - math.lgamma(count + 1)
    if count > mean:  # the terms from ``count`` upward shrink: sum them until negligible
        term, total, k = math.exp(log_first), 0.0, count
        while term > total * 1e-15 and k < count + 100_000:
            total += term
            k += 1
            term *= mean / k
        return min(1.0, total)
    below = sum(math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1)) for k in range(count))
    return max(0.0, 1.0 - below)


def is_spike(count: int, baseline: float, policy: SpikePolicy) -> bool:
    return (
        count >= policy.min_count
        and count >= policy.factor * baseline
        and poisson_tail(count, max(baseline, policy.baseline_floor)) <= policy.max_tail_probability
    )


def _spikes(
    carrier: str,
    series: WindowSeries,
    window: OpenWindow,
    counts: dict[tuple[str, str], int],
    now: datetime,
    policy: SpikePolicy,
) -> Iterable[PainPointSpike]:
    slots = baseline_slots(series, window.start)
    if not slots:
        return
    for (topic, region), count in sorted(counts.items()):
        baseline = sum(series.history.get(slot, {}).get((topic, region), 0) for slot in slots)
        baseline /= len(slots)
        if not is_spike(count, baseline, policy):
            continue
        span = _window(series, window.start)
        ratio = count / baseline if baseline > 0 else None
        yield PainPointSpike(
            spike_id=deterministic_id(
                "pain-point-spike",
                carrier,
                series.size.value,
                window.start.isoformat(),
                topic,
                region,
            ),
            carrier=carrier,
            topic=FeedbackTopic(topic),
            region=region,
            window=span,
            count=count,
            baseline=round(baseline, 4),
            baseline_windows=len(slots),
            ratio=round(ratio, 4) if ratio is not None else None,
            message=spike_message(
                carrier, FeedbackTopic(topic), region, span, count, baseline, len(slots)
            ),
            detected_at=now,
        )


TOPIC_COMPLAINTS = {
    FeedbackTopic.LATE_DELIVERY: "late-delivery complaints",
    FeedbackTopic.NOT_RECEIVED: "never-received complaints",
    FeedbackTopic.DAMAGED: "damage complaints",
    FeedbackTopic.WRONG_OR_MISSING_ITEM: "wrong- or missing-item complaints",
    FeedbackTopic.COURIER_BEHAVIOUR: "complaints about courier behaviour",
    FeedbackTopic.RETURN_OR_REFUND: "return and refund complaints",
    FeedbackTopic.CUSTOMER_SERVICE: "customer-service complaints",
    FeedbackTopic.PRODUCT_QUALITY: "product-quality complaints",
    FeedbackTopic.PRICE: "price complaints",
}


def _growth(ratio: float | None) -> str:
    if ratio is None:
        return "rose from none"
    if ratio >= 5:
        return f"rose {ratio:.0f}-fold"
    if ratio >= 4:
        return "quadrupled"
    if ratio >= 3:
        return "tripled"
    if ratio >= 2:
        return "more than doubled"
    return f"rose {ratio:.1f}-fold"


def spike_message(
    carrier: str,
    topic: FeedbackTopic,
    region: str,
    window: Window,
    count: int,
    baseline: float,
    baseline_windows: int,
) -> str:
    """E.g. "Damage complaints about carrier acme in region SP tripled on 2026-12-01 UTC
    (12 against a 7-day average of 3.4)"."""
    where = "" if region == ALL_REGIONS else f" in region {region}"
    day = window.start.strftime("%Y-%m-%d")
    if window.size is WindowSize.DAY:
        when, span = f"on {day} UTC", f"{baseline_windows}-day"
    else:
        hours = f"{window.start:%H:%M} and {window.end:%H:%M}"
        when, span = f"between {hours} UTC on {day}", f"{baseline_windows}-hour"
    growth = _growth(count / baseline if baseline > 0 else None)
    text = (
        f"{TOPIC_COMPLAINTS[topic]} about carrier {carrier}{where} {growth} {when} "
        f"({count} against a {span} average of {baseline:.1f})"
    )
    return text[0].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# The stored form: a JSON object, as the table keeps it.


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


def _series_to_json(series: WindowSeries) -> dict[str, Any]:
    return {
        "open": [
            {
                "start": start.isoformat(),
                "rows": [[*key, count] for key, count in window.rows.items()],
                "regions": [[*key, count] for key, count in window.regions.items()],
                "ids": sorted(window.feedback_ids),
            }
            for start, window in sorted(series.open.items())
        ],
        "closed_until": series.closed_until.isoformat() if series.closed_until else None,
        "tracked_since": series.tracked_since.isoformat() if series.tracked_since else None,
        "late": series.late,
        "history": [
            {"start": start.isoformat(), "counts": [[*key, count] for key, count in counts.items()]}
            for start, counts in sorted(series.history.items())
        ],
    }


def _series_from_json(size: WindowSize, data: dict[str, Any]) -> WindowSeries:
    open_windows = {}
    for item in data["open"]:
        start = _time(item["start"])
        open_windows[start] = OpenWindow(
            start=start,
            rows=Counter({(t, g, r): n for t, g, r, n in item["rows"]}),
            regions=Counter({(g, r): n for g, r, n in item["regions"]}),
            feedback_ids=set(item["ids"]),
        )
    return WindowSeries(
        size=size,
        open=open_windows,
        closed_until=_optional_time(data["closed_until"]),
        tracked_since=_optional_time(data["tracked_since"]),
        late=data["late"],
        history={
            _time(item["start"]): {(t, g): n for t, g, n in item["counts"]}
            for item in data["history"]
        },
    )


def state_to_json(state: PainPointWindows) -> dict[str, Any]:
    return {
        "state_version": STATE_VERSION,
        "carrier": state.carrier,
        "home_partition": state.home_partition,
        "hour": _series_to_json(state.hourly),
        "day": _series_to_json(state.daily),
    }


def state_from_json(data: dict[str, Any]) -> PainPointWindows:
    version = data.get("state_version")
    if version != STATE_VERSION:
        raise ValueError(f"pain-point state version {version!r} is not {STATE_VERSION}")
    return PainPointWindows(
        carrier=data["carrier"],
        hourly=_series_from_json(WindowSize.HOUR, data["hour"]),
        daily=_series_from_json(WindowSize.DAY, data["day"]),
        home_partition=data["home_partition"],
    )


def stored_due_at(data: dict[str, Any], grace: timedelta) -> datetime | None:
    """``due_at`` of a stored state, read without decoding its windows (the timer's sweep)."""
    ends = [
        _time(item["start"]) + WINDOW_LENGTH[size]
        for size in WindowSize
        for item in data[size.value]["open"]
    ]
    return min(ends) + grace if ends else None
