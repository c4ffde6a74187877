"""The plain-words reasons a delay_risk alert carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parcelwatch.models.scoring import SIMILAR_SHIPMENTS_WERE_LATE, RiskEstimate, plain_reasons

PROMISE = datetime(2026, 11, 20, 18, tzinfo=UTC)


def estimate(expected: datetime) -> RiskEstimate:
    return RiskEstimate(0.9, expected, expected - timedelta(hours=6), expected + timedelta(hours=6))


def test_reasons_name_what_the_row_shows_most_telling_first_at_most_three():
    row = {
        "status": "exception",
        "status_reason": "weather_delay",
        "failed_attempts": 1.0,
        "hours_in_status": 30.0,
        "hours_to_promise": 4.0,
    }
    reasons = plain_reasons(row, estimate(PROMISE + timedelta(hours=60)), PROMISE)
    assert reasons == [
        "now expected 60 h after the promised time",
        "the carrier reports weather delay",
        "1 failed delivery attempt(s)",
    ]


def test_a_risky_shipment_with_no_rule_to_name_still_gets_a_reason():
    # The model rates the carrier, service and lane; nothing in the row crosses a rule.
    row = {"hours_in_status": 2.0, "hours_to_promise": 50.0, "failed_attempts": 0.0}
    assert plain_reasons(row, estimate(PROMISE - timedelta(hours=1)), PROMISE) == [
        SIMILAR_SHIPMENTS_WERE_LATE
    ]
