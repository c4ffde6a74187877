"""Live model quality: each model version's outcomes in a rolling window, and what they say.

One ``ModelWatch`` per model version (the value of the monitoring table) keeps, per comparable
moment (``RiskMoment``), a day bucket per UTC day of the outcomes' ``decided_at``: counts of late
and on-time outcomes per hundredth of risk, the Brier sum, the risk summed per tenth (for
calibration) and the alerted and alerted-late counts. The window is the ``window_days`` days
ending with the day of the newest outcome seen (event time, not the clock: a replay yields the
figures it yielded live). Outcomes decided before the window are too old and not counted.

From the buckets: ROC-AUC (trapezoid over the hundredths; outcomes of one hundredth are ties and
count half), Brier score, late rate, alert precision and calibration per tenth of risk.

Outcomes are counted once by ``outcome_id``; the ids seen are kept, bounded: redeliveries come
soon after the original, so the most recent ``MAX_RECENT_OUTCOME_IDS`` suffice. (The shipment
processor sends each outcome once per shipment whatever is replayed on its side: the shipment's
state remembers it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.model_monitoring import (
    RISK_BANDS,
    CalibrationBand,
    ModelMonitoringSummary,
    ModelOutcome,
    RiskMoment,
)

RISK_BUCKETS = 100  # hundredths of risk
BUCKETS_PER_BAND = RISK_BUCKETS // len(RISK_BANDS)
DEFAULT_WINDOW_DAYS = 7
# Per model version. Redeliveries are the outcomes read again after a crash, from the last
# committed offset (seconds of traffic), so a few thousand suffice, and they keep the table value
# (rewritten to its changelog on every batch) near 200 KB, far below Kafka's 1 MB message limit.
MAX_RECENT_OUTCOME_IDS = 5_000


def risk_bucket(risk: float) -> int:
    """The hundredth of risk: 0 for [0, 0.01), ..., 99 for [0.99, 1.0]. The tiny epsilon keeps
    0.3 (0.3 * 100 = 30.000000000000004, 0.29 * 100 = 28.999999999999996) on the side of its
    decimal writing."""
    return min(int(risk * RISK_BUCKETS + 1e-9), RISK_BUCKETS - 1)


class Counted(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"  # its outcome_id was counted before
    TOO_OLD = "too_old"  # decided before the window


@dataclass
class DayBucket:
    """The outcomes of one moment decided on one UTC day."""

    on_time: list[int] = field(default_factory=lambda: [0] * RISK_BUCKETS)
    late: list[int] = field(default_factory=lambda: [0] * RISK_BUCKETS)
    brier_sum: float = 0.0
    risk_sum_by_band: list[float] = field(default_factory=lambda: [0.0] * len(RISK_BANDS))
    alerted: int = 0
    alerted_late: int = 0

    def add(self, outcome: ModelOutcome) -> None:
        bucket = risk_bucket(outcome.risk)
        (self.late if outcome.late else self.on_time)[bucket] += 1
        self.brier_sum += (outcome.risk - float(outcome.late)) ** 2
        self.risk_sum_by_band[bucket // BUCKETS_PER_BAND] += outcome.risk
        if outcome.alerted:
            self.alerted += 1
            self.alerted_late += int(outcome.late)

    def merge(self, other: DayBucket) -> None:
        for index in range(RISK_BUCKETS):
            self.on_time[index] += other.on_time[index]
            self.late[index] += other.late[index]
        for index in range(len(RISK_BANDS)):
            self.risk_sum_by_band[index] += other.risk_sum_by_band[index]
        self.brier_sum += other.brier_sum
        self.alerted += other.alerted
        self.alerted_late += other.alerted_late


@dataclass
class ModelWatch:
    model_version: str
    days: dict[RiskMoment, dict[date, DayBucket]] = field(default_factory=dict)
    newest_day: date | None = None  # of the newest outcome counted
    recent_ids: list[str] = field(default_factory=list)  # oldest first
    _recent: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._recent = set(self.recent_ids)

    def window_start(self, window_days: int) -> date | None:
        if self.newest_day is None:
            return None
        return self.newest_day - timedelta(days=window_days - 1)


def record_outcome(watch: ModelWatch, outcome: ModelOutcome, window_days: int) -> Counted:
    """Count ``outcome`` in its moment's day bucket (once per ``outcome_id``)."""
    if outcome.outcome_id in watch._recent:
        return Counted.DUPLICATE
    day = outcome.decided_at.astimezone(UTC).date()
    start = watch.window_start(window_days)
    if start is not None and day < start:
        return Counted.TOO_OLD
    _remember(watch, outcome.outcome_id)
    if watch.newest_day is None or day > watch.newest_day:
        watch.newest_day = day
        _drop_days_before(watch, day - timedelta(days=window_days - 1))
    watch.days.setdefault(outcome.moment, {}).setdefault(day, DayBucket()).add(outcome)
    return Counted.COUNTED


def _remember(watch: ModelWatch, outcome_id: str) -> None:
    watch.recent_ids.append(outcome_id)
    watch._recent.add(outcome_id)
    if len(watch.recent_ids) > MAX_RECENT_OUTCOME_IDS:
        forgotten = watch.recent_ids[: len(watch.recent_ids) - MAX_RECENT_OUTCOME_IDS]
        del watch.recent_ids[: len(forgotten)]
        watch._recent.difference_update(forgotten)


def _drop_days_before(watch: ModelWatch, start: date) -> None:
    for by_day in watch.days.values():
        for day in [day for day in by_day if day < start]:
            del by_day[day]


# -- the figures ---------------------------------------------------------------------------------


def roc_auc(on_time: list[int], late: list[int]) -> float | None:
    """ROC-AUC of bucketed scores: the chance that a late outcome has a higher bucket than an
    on-time one, ties counting half. None with one class only."""
    positives, negatives = sum(late), sum(on_time)
    if positives == 0 or negatives == 0:
        return None
    below = 0  # on-time outcomes in lower buckets
    pairs = 0.0
    for late_here, on_time_here in zip(late, on_time, strict=True):
        pairs += late_here * (below + on_time_here / 2)
        below += on_time_here
    return pairs / (positives * negatives)


def summarize(
    watch: ModelWatch, moment: RiskMoment, window_days: int, generated_at: datetime
) -> ModelMonitoringSummary | None:
    """The moment's figures over the window; None when it holds no outcome."""
    start = watch.window_start(window_days)
    by_day = watch.days.get(moment, {})
    if start is None or not by_day:
        return None
    total = DayBucket()
    for day, bucket in by_day.items():
        if day >= start:
            total.merge(bucket)
    late, outcomes = sum(total.late), sum(total.late) + sum(total.on_time)
    if outcomes == 0:
        return None
    window_start = datetime.combine(start, time(), UTC)
    window_end = window_start + timedelta(days=window_days)
    return ModelMonitoringSummary(
        summary_id=_summary_id(watch.model_version, moment, window_start, window_end, outcomes),
        model_version=watch.model_version,
        moment=moment,
        window_start=window_start,
        window_end=window_end,
        outcomes=outcomes,
        late_rate=late / outcomes,
        roc_auc=roc_auc(total.on_time, total.late),
        brier=total.brier_sum / outcomes,
        alert_precision=total.alerted_late / total.alerted if total.alerted else None,
        calibration=_calibration(total),
        generated_at=generated_at,
    )


def _summary_id(
    version: str, moment: RiskMoment, start: datetime, end: datetime, outcomes: int
) -> str:
    parts = (version, moment.value, start.isoformat(), end.isoformat(), str(outcomes))
    return deterministic_id("model-monitoring", *parts)


def _calibration(total: DayBucket) -> tuple[CalibrationBand, ...]:
    bands = []
    for index, name in enumerate(RISK_BANDS):
        buckets = slice(index * BUCKETS_PER_BAND, (index + 1) * BUCKETS_PER_BAND)
        late, on_time = sum(total.late[buckets]), sum(total.on_time[buckets])
        count = late + on_time
        if count:
            mean = min(max(total.risk_sum_by_band[index] / count, 0.0), 1.0)  # float sums
            bands.append(CalibrationBand(name, count, mean, late / count))
    return tuple(bands)


def summaries(
    watch: ModelWatch, window_days: int, generated_at: datetime
) -> list[ModelMonitoringSummary]:
    found = (summarize(watch, moment, window_days, generated_at) for moment in RiskMoment)
    return [summary for summary in found if summary is not None]


# -- the table value -----------------------------------------------------------------------------


def watch_to_json(watch: ModelWatch) -> dict[str, Any]:
    """Counts are stored sparsely (bucket -> count): most hundredths of a day are empty."""
    return {
        "model_version": watch.model_version,
        "newest_day": None if watch.newest_day is None else watch.newest_day.isoformat(),
        "recent_ids": list(watch.recent_ids),
        "days": {
            moment.value: {day.isoformat(): _bucket_to_json(b) for day, b in sorted(by_day.items())}
            for moment, by_day in watch.days.items()
        },
    }


def watch_from_json(data: dict[str, Any]) -> ModelWatch:
    newest = data["newest_day"]
    return ModelWatch(
        model_version=data["model_version"],
        days={
            RiskMoment(moment): {
                date.fromisoformat(day): _bucket_from_json(bucket) for day, bucket in days.items()
            }
            for moment, days in data["days"].items()
        },
        newest_day=None if newest is None else date.fromisoformat(newest),
        recent_ids=list(data["recent_ids"]),
    )


def _bucket_to_json(bucket: DayBucket) -> dict[str, Any]:
    return {
        "on_time": {str(i): n for i, n in enumerate(bucket.on_time) if n},
        "late": {str(i): n for i, n in enumerate(bucket.late) if n},
        "brier_sum": bucket.brier_sum,
        "risk_sum_by_band": list(bucket.risk_sum_by_band),
        "alerted": bucket.alerted,
        "alerted_late": bucket.alerted_late,
    }


def _bucket_from_json(data: dict[str, Any]) -> DayBucket:
    bucket = DayBucket(
        brier_sum=data["brier_sum"],
        risk_sum_by_band=list(data["risk_sum_by_band"]),
        alerted=data["alerted"],
        alerted_late=data["alerted_late"],
    )
    for index, count in data["on_time"].items():
        bucket.on_time[int(index)] = count
    for index, count in data["late"].items():
        bucket.late[int(index)] = count
    return bucket
