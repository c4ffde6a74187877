"""Pain-point windows with a fake clock: counting, de-duplication, closing, history and spikes."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason
from parcelwatch.schemas.pain_points import ALL_REGIONS, WindowSize
from parcelwatch.streams.core.pain_points import (
    HISTORY_WINDOWS,
    MAX_IDS_PER_DAY,
    MAX_OPEN_WINDOWS,
    MAX_REGIONS_PER_WINDOW,
    OTHER_REGION,
    PainPointWindows,
    SpikePolicy,
    TallyOutcome,
    close_due,
    due_at,
    is_spike,
    poisson_tail,
    record_tally,
    spike_message,
    state_from_json,
    state_to_json,
    stored_due_at,
    window_start,
)

T = FeedbackTopic
R = FlagReason
DAY0 = datetime(2026, 11, 20, tzinfo=UTC)  # a Friday; any UTC midnight would do
GRACE = timedelta(minutes=30)
POLICY = SpikePolicy()
_ids = itertools.count()


def tally(
    when: datetime,
    *topics: FeedbackTopic,
    region: str = "SP",
    reason: FlagReason = R.LOGISTICS_PAIN,
    feedback_id: str | None = None,
) -> FeedbackTally:
    return FeedbackTally(
        feedback_id=feedback_id or f"fb-{next(_ids)}",
        carrier="acme",
        region=region,
        reason=reason,
        topics=topics,
        received_at=when,
    )


def day(n: int, hour: int = 12) -> datetime:
    return DAY0 + timedelta(days=n, hours=hour)


def fresh() -> PainPointWindows:
    return PainPointWindows(carrier="acme")


def add_all(state: PainPointWindows, *tallies: FeedbackTally) -> list[TallyOutcome]:
    return [record_tally(state, item) for item in tallies]


def close(state: PainPointWindows, now: datetime):
    return close_due(state, now, GRACE, POLICY)


def daily_damage(state: PainPointWindows, counts: list[int]):
    """Day n gets counts[n] damage complaints in region SP; each day closed at the next noon."""
    spikes = []
    for n, count in enumerate(counts):
        add_all(state, *(tally(day(n), T.DAMAGED) for _ in range(count)))
        closing = close(state, day(n + 1))
        state = closing.state
        spikes += [spike for spike in closing.spikes if spike.window.size is WindowSize.DAY]
    return state, spikes


# -- windows -----------------------------------------------------------------------------------


def test_windows_are_utc_hours_and_days_whatever_the_offset():
    moment = datetime(2026, 11, 21, 1, 30, tzinfo=timezone(timedelta(hours=3)))  # 22:30 UTC
    assert window_start(WindowSize.HOUR, moment) == datetime(2026, 11, 20, 22, tzinfo=UTC)
    assert window_start(WindowSize.DAY, moment) == datetime(2026, 11, 20, tzinfo=UTC)


def test_a_tally_is_counted_in_its_hour_and_its_day():
    state = fresh()
    assert add_all(state, tally(day(0, 9), T.DAMAGED)) == [TallyOutcome.COUNTED]
    assert list(state.hourly.open) == [DAY0 + timedelta(hours=9)]
    assert list(state.daily.open) == [DAY0]


def test_nothing_closes_before_end_plus_grace():
    state = fresh()
    add_all(state, tally(day(0, 9), T.DAMAGED))
    hour_end = DAY0 + timedelta(hours=10)
    assert close(state, hour_end + GRACE - timedelta(seconds=1)).summaries == ()
    closing = close(state, hour_end + GRACE)
    assert [s.window.size for s in closing.summaries] == [WindowSize.HOUR]
    assert due_at(closing.state, GRACE) == DAY0 + timedelta(days=1) + GRACE


def test_closing_leaves_its_input_alone():
    state = fresh()
    add_all(state, tally(day(0), T.DAMAGED))
    closing = close(state, day(2))
    assert len(closing.summaries) == 2
    assert state.daily.open and state.hourly.open
    assert not closing.state.daily.open and not closing.state.hourly.open


def test_summary_counts_rows_and_breakdowns():
    state = fresh()
    add_all(
        state,
        tally(day(0, 8), T.DAMAGED, T.LATE_DELIVERY, region="SP"),
        tally(day(0, 9), T.DAMAGED, region="RJ"),
        tally(day(0, 10), T.PRICE, region="SP", reason=R.PRODUCT_ISSUE),
        tally(day(0, 11), region="SP", reason=R.PRAISE),
    )
    summary = next(s for s in close(state, day(2)).summaries if s.window.size is WindowSize.DAY)
    assert summary.total == 4
    assert summary.window.start == DAY0 and summary.window.end == DAY0 + timedelta(days=1)
    rows = {(row.topic, row.region, row.reason): row.count for row in summary.counts}
    assert rows == {
        (T.DAMAGED, "SP", R.LOGISTICS_PAIN): 1,
        (T.LATE_DELIVERY, "SP", R.LOGISTICS_PAIN): 1,
        (T.DAMAGED, "RJ", R.LOGISTICS_PAIN): 1,
        (T.PRICE, "SP", R.PRODUCT_ISSUE): 1,
        (None, "SP", R.PRAISE): 1,
    }
    assert [(c.key, c.count) for c in summary.by_topic] == [
        ("damaged", 2), ("late_delivery", 1), ("price", 1),
    ]  # fmt: skip
    assert [(c.key, c.count) for c in summary.by_region] == [("SP", 3), ("RJ", 1)]
    assert sum(c.count for c in summary.by_reason) == summary.total
    assert summary.closed_at == day(2)


def test_summary_ids_are_deterministic_and_distinct_per_window():
    first, second = fresh(), fresh()
    for state in (first, second):
        add_all(state, tally(day(0), T.DAMAGED, feedback_id="same"))
    ids_first = [s.summary_id for s in close(first, day(2)).summaries]
    ids_second = [s.summary_id for s in close(second, day(3)).summaries]
    assert ids_first == ids_second
    assert len(set(ids_first)) == 2  # the hour and the day


def test_windows_close_oldest_first_hour_before_its_day():
    state = fresh()
    add_all(state, tally(day(0, 23), T.DAMAGED), tally(day(1, 1), T.DAMAGED))
    closing = close(state, day(3))
    order = [(s.window.size, s.window.start) for s in closing.summaries]
    assert order == sorted(order, key=lambda item: (item[1] + _length(item[0]), item[0] == "day"))
    assert order[:2] == [(WindowSize.HOUR, day(0, 23)), (WindowSize.DAY, DAY0)]


def _length(size: WindowSize) -> timedelta:
    return timedelta(hours=1) if size is WindowSize.HOUR else timedelta(days=1)


# -- duplicates and late arrivals --------------------------------------------------------------


def test_a_redelivered_tally_counts_once():
    state = fresh()
    again = tally(day(0), T.DAMAGED, feedback_id="fb-dup")
    assert add_all(state, again, again) == [TallyOutcome.COUNTED, TallyOutcome.DUPLICATE]
    assert {s.total for s in close(state, day(2)).summaries} == {1}


def test_a_tally_for_a_closed_day_is_late_and_does_not_reopen_it():
    state = fresh()
    add_all(state, tally(day(0), T.DAMAGED))
    state = close(state, day(1)).state
    assert add_all(state, tally(day(0, 3), T.DAMAGED)) == [TallyOutcome.LATE]
    assert not state.daily.open and not state.hourly.open
    add_all(state, tally(day(1), T.DAMAGED))
    summaries = close(state, day(3)).summaries
    assert {s.window.size: s.late_arrivals for s in summaries} == {
        WindowSize.HOUR: 1,
        WindowSize.DAY: 1,
    }
    assert all(s.total == 1 for s in summaries)


def test_late_for_its_hour_still_counts_in_its_day():
    state = fresh()
    add_all(state, tally(day(0, 9), T.DAMAGED))
    state = close(state, day(0, 11)).state  # the 09:00 hour closed
    assert add_all(state, tally(day(0, 9), T.DAMAGED)) == [TallyOutcome.LATE_FOR_HOUR]
    daily = next(s for s in close(state, day(2)).summaries if s.window.size is WindowSize.DAY)
    assert daily.total == 2 and daily.late_arrivals == 0


def test_late_arrivals_go_to_the_first_summary_only():
    state = fresh()
    add_all(state, tally(day(0), T.DAMAGED))
    state = close(state, day(1)).state
    add_all(state, tally(day(0), T.DAMAGED), tally(day(1), T.DAMAGED), tally(day(2), T.DAMAGED))
    daily = [s for s in close(state, day(4)).summaries if s.window.size is WindowSize.DAY]
    assert [s.late_arrivals for s in daily] == [1, 0]


# -- bounds ------------------------------------------------------------------------------------


def test_open_windows_are_capped():
    state = fresh()
    outcomes = add_all(state, *(tally(day(n), T.DAMAGED) for n in range(20)))
    assert len(state.daily.open) == MAX_OPEN_WINDOWS[WindowSize.DAY]
    assert outcomes.count(TallyOutcome.LATE) == 20 - MAX_OPEN_WINDOWS[WindowSize.DAY]


def test_regions_beyond_the_cap_are_counted_as_other():
    state = fresh()
    add_all(state, *(tally(day(0), T.DAMAGED, region=f"R{n}") for n in range(150)))
    daily = next(s for s in close(state, day(2)).summaries if s.window.size is WindowSize.DAY)
    regions = {c.key: c.count for c in daily.by_region}
    assert len(regions) == MAX_REGIONS_PER_WINDOW + 1
    assert regions[OTHER_REGION] == 150 - MAX_REGIONS_PER_WINDOW
    assert daily.total == 150


def test_remembered_ids_are_capped_but_counting_goes_on():
    state = fresh()
    add_all(state, *(tally(day(0), region="SP") for _ in range(MAX_IDS_PER_DAY + 10)))
    (window,) = state.daily.open.values()
    assert len(window.feedback_ids) == MAX_IDS_PER_DAY
    assert window.total == MAX_IDS_PER_DAY + 10


def test_history_is_bounded_whatever_the_number_of_days():
    state = fresh()
    state, _ = daily_damage(state, [1] * 30)
    assert len(state.daily.history) <= HISTORY_WINDOWS[WindowSize.DAY]
    assert len(state.hourly.history) <= HISTORY_WINDOWS[WindowSize.HOUR]
    assert min(state.daily.history) >= day(30, 0) - HISTORY_WINDOWS[WindowSize.DAY] * _length(
        WindowSize.DAY
    )


# -- spikes ------------------------------------------------------------------------------------


def test_a_tripled_daily_count_is_a_spike_with_words_and_numbers():
    _, spikes = daily_damage(fresh(), [3, 4, 3, 3, 4, 3, 4, 12])
    by_region = {spike.region: spike for spike in spikes}
    assert set(by_region) == {"SP", ALL_REGIONS}
    spike = by_region["SP"]
    assert spike.topic is T.DAMAGED and spike.count == 12
    assert spike.window.start == DAY0 + timedelta(days=7)
    assert spike.baseline == pytest.approx(24 / 7, abs=1e-3)
    assert spike.baseline_windows == 7
    assert spike.ratio == pytest.approx(12 / (24 / 7), abs=1e-3)
    assert spike.message == (
        "Damage complaints about carrier acme in region SP tripled on 2026-11-27 UTC "
        "(12 against a 7-day average of 3.4)"
    )
    assert spike.detected_at == day(8)


def test_spike_ids_are_deterministic():
    _, first = daily_damage(fresh(), [2, 2, 2, 12])
    _, second = daily_damage(fresh(), [2, 2, 2, 12])
    assert [s.spike_id for s in first] == [s.spike_id for s in second]
    assert len({s.spike_id for s in first}) == len(first) == 2


def test_no_spike_below_the_minimum_count():
    _, spikes = daily_damage(fresh(), [1, 1, 1, 1, 1, 1, 1, 4])
    assert spikes == []


def test_no_spike_below_the_factor():
    _, spikes = daily_damage(fresh(), [5, 5, 5, 5, 5, 5, 5, 14])
    assert spikes == []


def test_a_small_baseline_tripled_by_chance_does_not_fire():
    # 5 against a mean of 5/3: the factor holds, but a Poisson(5/3) gives 5 or more 3% of the time
    _, spikes = daily_damage(fresh(), [2, 1, 2, 2, 1, 2, 0, 5])
    assert spikes == []


def test_days_without_feedback_count_as_zero():
    state = fresh()
    add_all(state, *(tally(day(0), T.DAMAGED) for _ in range(14)))
    state = close(state, day(1)).state
    # Six quiet days, then 6: the mean over 7 days is 2, so 6 triples it.
    add_all(state, *(tally(day(7), T.DAMAGED) for _ in range(6)))
    daily = [s for s in close(state, day(8)).spikes if s.window.size is WindowSize.DAY]
    assert daily == []  # P(X >= 6 | 2) = 1.7 % is noise
    add_all(state, *(tally(day(7), T.DAMAGED) for _ in range(4)))  # state kept the day open
    daily = [s for s in close(state, day(8)).spikes if s.window.size is WindowSize.DAY]
    assert {s.count for s in daily} == {10}
    assert {s.baseline for s in daily} == {2.0}


def test_a_new_carrier_is_compared_only_with_the_days_it_was_seen():
    _, spikes = daily_damage(fresh(), [2, 10])
    assert {s.baseline_windows for s in spikes} == {1}
    _, none_yet = daily_damage(fresh(), [10])
    assert none_yet == []  # no trailing window at all: nothing to compare with


def test_only_negative_reasons_count_toward_spikes():
    state = fresh()
    for n in range(3):
        add_all(state, tally(day(n), T.DAMAGED))
        state = close(state, day(n + 1)).state
    add_all(state, *(tally(day(3), T.DAMAGED, reason=R.RECOVERED) for _ in range(20)))
    assert close(state, day(4)).spikes == ()


@pytest.mark.parametrize("reason", [R.DISPUTED_DELIVERY, R.UNEXPLAINED_DELIVERY_COMPLAINT])
def test_other_negative_reasons_count(reason):
    state = fresh()
    for n in range(3):
        add_all(state, tally(day(n), T.NOT_RECEIVED, reason=reason))
        state = close(state, day(n + 1)).state
    add_all(state, *(tally(day(3), T.NOT_RECEIVED, reason=reason) for _ in range(10)))
    assert {s.topic for s in close(state, day(4)).spikes} == {T.NOT_RECEIVED}


def test_a_topic_spike_over_all_regions_without_one_per_region():
    state = fresh()
    for n in range(7):
        add_all(state, tally(day(n), T.LATE_DELIVERY, region="SP"))
        state = close(state, day(n + 1)).state
    regions = [f"R{n}" for n in range(8)]
    add_all(state, *(tally(day(7), T.LATE_DELIVERY, region=region) for region in regions))
    daily = [s for s in close(state, day(8)).spikes if s.window.size is WindowSize.DAY]
    assert [(s.region, s.count) for s in daily] == [(ALL_REGIONS, 8)]
    assert daily[0].message.startswith("Late-delivery complaints about carrier acme rose 8-fold on")


def test_hourly_spikes_compare_with_the_previous_24_hours():
    state = fresh()
    start = DAY0 + timedelta(hours=6)
    for h in range(24):
        add_all(state, tally(start + timedelta(hours=h), T.COURIER_BEHAVIOUR))
        state = close(state, start + timedelta(hours=h + 1, minutes=31)).state
    add_all(state, *(tally(start + timedelta(hours=24), T.COURIER_BEHAVIOUR) for _ in range(6)))
    spikes = close(state, start + timedelta(hours=25, minutes=31)).spikes
    hourly = [s for s in spikes if s.window.size is WindowSize.HOUR]
    assert {(s.baseline, s.baseline_windows, s.count) for s in hourly} == {(1.0, 24, 6)}
    assert hourly[0].message.endswith(
        "between 06:00 and 07:00 UTC on 2026-11-21 (6 against a 24-hour average of 1.0)"
    )


def test_poisson_tail_matches_the_distribution():
    for mean in (0.5, 2.0, 7.5):
        for count in (0, 1, 3, 10):
            expected = 1 - sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(count))
            assert poisson_tail(count, mean) == pytest.approx(expected, abs=1e-12)
    assert poisson_tail(5, 0.0) == 0.0
    assert 0 < poisson_tail(400, 100.0) < 1e-50


def test_spike_rule_reads_its_policy():
    assert is_spike(5, 0.0, POLICY)
    assert not is_spike(5, 0.0, SpikePolicy(min_count=6))
    assert not is_spike(9, 3.5, POLICY)
    assert is_spike(9, 3.5, SpikePolicy(factor=2.5, max_tail_probability=0.05))


@pytest.mark.parametrize(
    ("count", "baseline", "words"),
    [(12, 2.0, "rose 6-fold"), (9, 2.0, "quadrupled"), (5, 2.0, "more than doubled"),
     (3, 2.0, "rose 1.5-fold"), (5, 0.0, "rose from none")],
)  # fmt: skip
def test_spike_message_names_the_growth(count, baseline, words):
    from parcelwatch.schemas.pain_points import Window

    window = Window(WindowSize.DAY, DAY0, DAY0 + timedelta(days=1))
    text = spike_message("acme", T.PRICE, "SP", window, count, baseline, 7)
    assert f"Price complaints about carrier acme in region SP {words} on 2026-11-20 UTC" in text


# -- the stored form ---------------------------------------------------------------------------


def test_state_round_trips_through_json():
    state = fresh()
    state.home_partition = 2
    state, _ = daily_damage(state, [2, 3])
    add_all(state, tally(day(2, 5), T.DAMAGED, T.PRICE, region="RJ"), tally(day(2, 6)))
    add_all(state, tally(day(0), T.DAMAGED))  # late
    stored = orjson.loads(orjson.dumps(state_to_json(state)))
    assert state_from_json(stored) == state
    assert stored_due_at(stored, GRACE) == due_at(state, GRACE)


def test_a_state_of_an_unknown_version_is_refused():
    stored = state_to_json(fresh())
    stored["state_version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        state_from_json(stored)
