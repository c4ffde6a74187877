"""Live model quality: the rolling window of outcomes and the figures drawn from it."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import orjson
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from parcelwatch.schemas.model_monitoring import RISK_BANDS, ModelOutcome, RiskMoment
from parcelwatch.streams.core.model_watch import (
    Counted,
    ModelWatch,
    record_outcome,
    risk_bucket,
    roc_auc,
    summaries,
    summarize,
    watch_from_json,
    watch_to_json,
)

DAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PICKUP = RiskMoment.PICKUP


def outcome(number, risk, late, *, day=0, moment=PICKUP, alerted=False, version="v1"):
    return ModelOutcome(
        outcome_id=f"o-{number}-{moment.value}", model_version=version, moment=moment, risk=risk,
        late=late, alerted=alerted, decided_at=DAY + timedelta(days=day), carrier="ups",
        service_level="ground",
    )  # fmt: skip


def watched(outcomes, window_days=7):
    watch = ModelWatch("v1")
    for item in outcomes:
        record_outcome(watch, item, window_days)
    return watch


def random_outcomes(count, seed=7):
    chance = random.Random(seed)
    items = []
    for number in range(count):
        risk = chance.random()
        items.append(outcome(number, risk, chance.random() < risk, alerted=risk > 0.6))
    return items


def test_roc_auc_is_sklearns_on_the_bucketed_risk():
    items = random_outcomes(500)
    summary = summarize(watched(items), PICKUP, 7, NOW)

    buckets = [risk_bucket(item.risk) for item in items]
    expected = roc_auc_score([item.late for item in items], buckets)
    assert summary.roc_auc == pytest.approx(expected, abs=1e-12)


def test_ties_count_half():
    # one late and one on-time outcome in the same hundredth: a coin flip
    assert roc_auc([1] + [0] * 99, [1] + [0] * 99) == 0.5
    assert roc_auc([1] + [0] * 99, [0, 1] + [0] * 98) == 1.0


def test_roc_auc_is_none_with_one_class_only():
    summary = summarize(watched([outcome(1, 0.2, False), outcome(2, 0.4, False)]), PICKUP, 7, NOW)
    assert summary.roc_auc is None and summary.late_rate == 0.0


def test_brier_late_rate_and_alert_precision_are_exact():
    items = random_outcomes(300, seed=3)
    summary = summarize(watched(items), PICKUP, 7, NOW)

    late = np.array([item.late for item in items])
    risks = np.array([item.risk for item in items])
    alerted = np.array([item.alerted for item in items])
    assert summary.outcomes == 300
    assert summary.brier == pytest.approx(brier_score_loss(late, risks))
    assert summary.late_rate == pytest.approx(late.mean())
    assert summary.alert_precision == pytest.approx(late[alerted].mean())


def test_no_alert_no_alert_precision():
    summary = summarize(watched([outcome(1, 0.2, True)]), PICKUP, 7, NOW)
    assert summary.alert_precision is None


def test_calibration_compares_mean_risk_and_late_rate_per_tenth():
    items = random_outcomes(400, seed=11)
    summary = summarize(watched(items), PICKUP, 7, NOW)

    for band in summary.calibration:
        members = [i for i in items if RISK_BANDS[risk_bucket(i.risk) // 10] == band.risk_band]
        assert band.count == len(members)
        assert band.mean_predicted == pytest.approx(np.mean([i.risk for i in members]))
        assert band.observed_late_rate == pytest.approx(np.mean([i.late for i in members]))
    assert sum(band.count for band in summary.calibration) == 400


def test_band_edges_follow_the_written_decimal():
    assert RISK_BANDS[risk_bucket(0.3) // 10] == "0.3-0.4"
    assert RISK_BANDS[risk_bucket(0.29) // 10] == "0.2-0.3"
    assert RISK_BANDS[risk_bucket(1.0) // 10] == "0.9-1.0"
    assert risk_bucket(0.0) == 0


def test_an_outcome_is_counted_once_by_its_id():
    watch = watched([outcome(1, 0.7, True)])
    assert record_outcome(watch, outcome(1, 0.7, True), 7) is Counted.DUPLICATE
    assert summarize(watch, PICKUP, 7, NOW).outcomes == 1


def test_the_window_follows_the_newest_outcome_and_drops_older_days():
    watch = watched([outcome(1, 0.2, False, day=0), outcome(2, 0.8, True, day=2)], window_days=3)
    assert summarize(watch, PICKUP, 3, NOW).outcomes == 2

    record_outcome(watch, outcome(3, 0.9, True, day=4), 3)  # the window is now days 2..4
    summary = summarize(watch, PICKUP, 3, NOW)

    assert summary.outcomes == 2
    assert summary.window_start == datetime(2026, 11, 22, tzinfo=UTC)
    assert summary.window_end == datetime(2026, 11, 25, tzinfo=UTC)
    assert min(watch.days[PICKUP]) == date(2026, 11, 22)
    assert record_outcome(watch, outcome(4, 0.1, False, day=1), 3) is Counted.TOO_OLD


def test_moments_are_summarized_apart():
    minus_24h = RiskMoment.PROMISE_MINUS_24H
    watch = watched([outcome(1, 0.2, False), outcome(1, 0.9, False, moment=minus_24h)])
    by_moment = {summary.moment: summary for summary in summaries(watch, 7, NOW)}
    assert by_moment[PICKUP].calibration[0].risk_band == "0.2-0.3"
    assert by_moment[minus_24h].calibration[0].risk_band == "0.9-1.0"


def test_summary_id_names_the_window_and_its_outcomes():
    watch = watched(random_outcomes(10))
    first = summarize(watch, PICKUP, 7, NOW)
    assert summarize(watch, PICKUP, 7, NOW + timedelta(minutes=5)).summary_id == first.summary_id
    record_outcome(watch, outcome(99, 0.5, True), 7)
    assert summarize(watch, PICKUP, 7, NOW).summary_id != first.summary_id


def test_an_empty_watch_has_nothing_to_say():
    assert summaries(ModelWatch("v1"), 7, NOW) == []


def test_the_table_value_round_trips_through_json_bytes():
    watch = watched(random_outcomes(50))
    restored = watch_from_json(orjson.loads(orjson.dumps(watch_to_json(watch))))
    assert restored == watch
    assert record_outcome(restored, outcome(0, 0.5, True), 7) is Counted.DUPLICATE
    assert summaries(restored, 7, NOW) == summaries(watch, 7, NOW)


def test_recent_ids_stay_bounded(monkeypatch):
    from parcelwatch.streams.core import model_watch

    monkeypatch.setattr(model_watch, "MAX_RECENT_OUTCOME_IDS", 5)
    watch = watched(random_outcomes(8))
    assert watch.recent_ids == [f"o-{n}-pickup" for n in range(3, 8)]
    assert record_outcome(watch, outcome(0, 0.5, True), 7) is Counted.COUNTED  # forgotten


def test_a_full_table_value_stays_far_below_kafkas_message_limit():
    from parcelwatch.schemas.ids import deterministic_id
    from parcelwatch.streams.core.model_watch import MAX_RECENT_OUTCOME_IDS

    watch = ModelWatch("v20261126T042304Z-4e6e0951")
    for number in range(MAX_RECENT_OUTCOME_IDS + 100):
        moment = list(RiskMoment)[number % 2]
        item = outcome(number, (number % 100) / 100 + 0.001, number % 3 == 0, day=number % 7,
                       moment=moment, alerted=number % 5 == 0)  # fmt: skip
        record_outcome(watch, replace(item, outcome_id=deterministic_id(str(number))), 7)
    assert len(orjson.dumps(watch_to_json(watch))) < 512 * 1024
