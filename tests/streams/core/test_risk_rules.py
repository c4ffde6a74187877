"""The delay-risk rule: threshold, hysteresis, one alert per episode, silence once settled."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from parcelwatch.schemas.state import RiskAtMoment
from parcelwatch.schemas.types import AlertKind, PredictedDelivery, ShipmentStatus
from parcelwatch.streams.core.risk_rules import RiskPolicy, RiskScore, apply_risk
from parcelwatch.streams.core.tracking import apply_event
from tests.factories import at, order, scan

POLICY = RiskPolicy(threshold=0.6, hysteresis=0.2)


def shipment(status="in_transit"):
    state = apply_event(None, order(72), at(0)).state
    return apply_event(state, scan(status, 10, f"s-{status}"), at(10)).state


def score(state, risk, event_id="s1", hours=10):
    expected = at(hours + 30)
    return RiskScore(
        snapshot=state, source_event_id=event_id, scan_time=at(hours), risk=risk,
        prediction=PredictedDelivery(expected, expected - timedelta(hours=12),
                                     expected + timedelta(hours=20)),
        model_version="v1", reasons=("only 5 h left before the promise",),
    )  # fmt: skip


def run(risks):
    state, alerts = shipment(), []
    for index, risk in enumerate(risks):
        current = score(state, risk, f"s{index}", 10 + index)
        state, alert = apply_risk(state, current, POLICY, at(99))
        if alert:
            alerts.append(alert)
    return state, alerts


def test_below_threshold_is_silent_but_recorded():
    state, alerts = run([0.3])
    assert alerts == []
    assert state.risk.score == 0.3 and state.risk.model_version == "v1"
    assert state.risk.predicted_delivery.expected == at(40)


def test_crossing_raises_one_alert_with_everything_a_consumer_needs():
    _, (alert,) = run([0.2, 0.7])
    assert alert.kind is AlertKind.DELAY_RISK
    assert alert.risk == 0.7 and alert.model_version == "v1"
    assert alert.source_event_id == "s1"
    assert alert.promised_by == at(72)
    assert alert.predicted_delivery.earliest < alert.predicted_delivery.expected
    assert alert.reasons == ("only 5 h left before the promise",)
    assert "70% risk" in alert.message and "now expected" in alert.message


def test_hovering_around_the_threshold_does_not_flap():
    _, alerts = run([0.65, 0.55, 0.62, 0.45, 0.7, 0.59, 0.61])
    assert len(alerts) == 1


def test_falling_below_the_hysteresis_band_closes_the_episode():
    _, alerts = run([0.7, 0.39, 0.7])
    assert len(alerts) == 2
    assert alerts[0].alert_id != alerts[1].alert_id


def test_settled_shipments_raise_no_risk_alert():
    delivered = shipment("delivered")
    state, alert = apply_risk(delivered, score(delivered, 0.95), POLICY, at(99))
    assert alert is None
    assert state.open_episode(AlertKind.DELAY_RISK) is None


def test_alert_speaks_in_the_promise_time_zone():
    from datetime import timezone

    tokyo = timezone(timedelta(hours=9))
    state = apply_event(None, order(72), at(0)).state
    from dataclasses import replace

    state = apply_event(state, scan("in_transit", 10), at(10)).state
    state = replace(state, order=replace(state.order, promised_by=at(72).astimezone(tokyo)))
    _, alert = apply_risk(state, score(state, 0.9), POLICY, at(99))
    # at(40) is 2026-11-22 01:00 UTC, which is Sunday 10:00 in Tokyo
    assert "Sunday 22 Nov 10:00" in alert.message


@pytest.mark.parametrize(("threshold", "hysteresis"), [(0, 0), (1.2, 0.1), (0.5, 0.5)])
def test_policy_rejects_nonsense(threshold, hysteresis):
    with pytest.raises(ValueError):
        RiskPolicy(threshold, hysteresis)


def test_status_is_taken_from_the_snapshot():
    _, alerts = run([0.9])
    assert alerts[0].status is ShipmentStatus.IN_TRANSIT


# -- the risk at comparable moments (for the live model monitoring) ----------------------------


def scored(steps, promise_hours=72):
    """Apply (status, scan hour, risk, version) in arrival order, scoring each snapshot."""
    state = apply_event(None, order(promise_hours), at(0)).state
    for status, hours, risk, version in steps:
        state = apply_event(state, scan(status, hours, f"s-{status}-{hours}"), at(99)).state
        current = replace(score(state, risk, f"s-{status}-{hours}", hours), model_version=version)
        state, _ = apply_risk(state, current, POLICY, at(99))
    return state.risk


def test_pickup_is_the_first_score_once_the_shipment_moved():
    risk = scored([("info_received", 1, 0.1, "v1"), ("picked_up", 5, 0.2, "v1"),
                   ("in_transit", 20, 0.3, "v2")])  # fmt: skip
    assert risk.at_pickup == RiskAtMoment(0.2, "v1", at(5))


def test_no_pickup_moment_before_the_carrier_moves_it():
    assert scored([("info_received", 1, 0.1, "v1")]).at_pickup is None


def test_a_late_older_movement_scan_does_not_replace_the_pickup_risk():
    # The in_transit score was what the worker said first once the parcel moved.
    risk = scored([("in_transit", 20, 0.3, "v1"), ("picked_up", 5, 0.9, "v1")])
    assert risk.at_pickup == RiskAtMoment(0.3, "v1", at(20))


def test_before_promise_is_the_last_score_at_or_before_the_cut_off():
    # promise at 72 h: the cut-off is 48 h; the 48 h scan counts, the 50 h one does not.
    risk = scored([("picked_up", 5, 0.2, "v1"), ("in_transit", 48, 0.4, "v1"),
                   ("in_transit", 50, 0.8, "v2")])  # fmt: skip
    assert risk.before_promise == RiskAtMoment(0.4, "v1", at(48))
    assert risk.score == 0.8  # the latest reading goes on regardless


def test_a_late_older_scan_does_not_overwrite_the_risk_in_force_before_the_promise():
    risk = scored([("in_transit", 30, 0.4, "v1"), ("picked_up", 5, 0.9, "v2")])
    assert risk.before_promise == RiskAtMoment(0.4, "v1", at(30))


def test_a_late_scan_newer_than_the_kept_one_but_before_the_cut_off_replaces_it():
    risk = scored([("picked_up", 5, 0.2, "v1"), ("in_transit", 60, 0.5, "v1"),
                   ("in_transit", 40, 0.7, "v1")])  # fmt: skip
    assert risk.before_promise == RiskAtMoment(0.7, "v1", at(40))


def test_without_a_promise_no_moment_is_kept_until_a_score_knows_it():
    state = apply_event(None, scan("picked_up", 5, "s-p"), at(99)).state
    state, _ = apply_risk(state, score(state, 0.3, "s-p", 5), POLICY, at(99))
    assert (state.risk.score, state.risk.at_pickup, state.risk.before_promise) == (0.3, None, None)
    # The order is read after its scan: the score as of that scan, now with the promise.
    state = apply_event(state, order(72), at(99)).state
    state, _ = apply_risk(state, score(state, 0.6, "s-p", 5), POLICY, at(99))
    assert state.risk.at_pickup == RiskAtMoment(0.6, "v1", at(5))
    assert state.risk.before_promise == RiskAtMoment(0.6, "v1", at(5))
