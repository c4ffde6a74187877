"""Evaluation metrics, baselines and the report, on small hand-made and synthetic examples."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from parcelwatch.models.baselines import BASELINE_NAMES, fit_baselines
from parcelwatch.models.dataset import Examples
from parcelwatch.models.evaluate import evaluate, threshold_at_false_alert_count
from parcelwatch.models.evaluation_result import DataSummary, EvaluationResult
from parcelwatch.models.report import write_report

T0 = datetime(2026, 11, 2, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Ship:
    """One shipment: times in hours after T0; ``delivered`` None = never delivered."""

    number: str
    scans: list[float]
    promised: float
    delivered: float | None
    ordered: float = 0.0
    carrier: str = "ups"
    service: str = "ground"
    origin: str = "US-CA"
    destination: str = "US-NY"

    @property
    def late(self) -> int:
        return int(self.delivered is None or self.delivered > self.promised)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def make_examples(ships: list[Ship]) -> Examples:
    rows, late, to_delivery, tracking, events = [], [], [], [], []
    carriers, services, as_of, ordered, promised = [], [], [], [], []
    for ship in ships:
        for k, scan in enumerate(ship.scans):
            rows.append(
                {
                    "hours_since_order": scan - ship.ordered,
                    "hours_to_promise": ship.promised - scan,
                    "promised_transit_hours": ship.promised - ship.ordered,
                    "origin_region": ship.origin,
                    "destination_region": ship.destination,
                    "service_level": ship.service,
                    "carrier": ship.carrier,
                    "status": "in_transit",
                }
            )
            late.append(ship.late)
            to_delivery.append(math.nan if ship.delivered is None else ship.delivered - scan)
            tracking.append(ship.number)
            events.append(f"{ship.number}-{k}")
            carriers.append(ship.carrier)
            services.append(ship.service)
            as_of.append(_at(scan))
            ordered.append(_at(ship.ordered))
            promised.append(_at(ship.promised))
    return Examples(
        rows=rows,
        late=np.array(late, dtype=np.int8),
        hours_to_delivery=np.array(to_delivery, dtype=np.float64),
        tracking_numbers=tracking,
        event_ids=events,
        carriers=carriers,
        service_levels=services,
        as_of=as_of,
        ordered_at=ordered,
        promised_by=promised,
    )


def synthetic(n: int, seed: int, start: float = 0.0) -> tuple[Examples, np.ndarray]:
    """``n`` shipments of 1-4 scans with a known delay signal; returns examples and model risk."""
    rng = np.random.default_rng(seed)
    carriers = np.array(["ups", "fedex", "dhl"])
    services = np.array(["ground", "express"])
    ships, delays = [], []
    for i in range(n):
        carrier = rng.choice(carriers, p=[0.5, 0.3, 0.2])
        service = rng.choice(services)
        promised_transit = 72.0 if service == "ground" else 36.0
        delay = rng.normal(0.0, 12.0) + (10.0 if carrier == "dhl" else 0.0)
        ordered = start + i * 0.5
        transit = promised_transit * 0.8 + delay
        scans = sorted(ordered + rng.uniform(1.0, max(transit, 2.0), size=rng.integers(1, 5)))
        ships.append(
            Ship(
                number=f"S{seed}-{i:05d}",
                scans=[float(s) for s in scans],
                promised=ordered + promised_transit,
                delivered=ordered + max(transit, scans[-1] - ordered + 0.5),
                ordered=ordered,
                carrier=str(carrier),
                service=str(service),
                origin=str(rng.choice(["US-CA", "US-TX"])),
            )
        )
        delays.append(delay)
    examples = make_examples(ships)
    per_row = np.repeat(delays, [len(s.scans) for s in ships])
    noise = rng.normal(0.0, 4.0, size=len(per_row))
    risk = 1.0 / (1.0 + np.exp(-(per_row + noise - 12.0) / 4.0))
    return examples, risk


def run(test: Examples, risk: np.ndarray, threshold: float = 0.5, **kwargs) -> EvaluationResult:
    baseline_scores = kwargs.pop("baseline_scores", {"zero": np.zeros(len(test))})
    return evaluate(
        test,
        risk=np.asarray(risk, dtype=np.float64),
        quantile_hours=kwargs.pop("quantile_hours", None),
        baseline_scores=baseline_scores,
        threshold=threshold,
    )


# --- metric values on hand-made cases -------------------------------------------------------


def _four_shipments() -> Examples:
    return make_examples(
        [
            Ship("L1", scans=[1, 5], promised=48, delivered=60),
            Ship("L2", scans=[2], promised=48, delivered=None),
            Ship("O1", scans=[1, 3, 6], promised=48, delivered=40),
            Ship("O2", scans=[4], promised=48, delivered=30),
        ]
    )


def test_perfect_scorer() -> None:
    test = _four_shipments()
    metrics = run(test, test.late.astype(float))
    model = metrics.model
    assert model.roc_auc == 1.0
    assert model.pr_auc == 1.0
    assert model.brier == 0.0
    alerts = model.at_threshold
    assert alerts.recall == 1.0
    assert alerts.precision == 1.0
    assert alerts.false_alerts == 0
    assert alerts.false_alerts_per_1000_on_time == 0.0
    assert replace(metrics.data, first_scan=None, last_scan=None) == DataSummary(
        rows=7,
        shipments=4,
        late_shipments=2,
        on_time_shipments=2,
        late_rate=0.5,
        row_late_rate=3 / 7,
        delivered_rows=6,
        first_scan=None,
        last_scan=None,
    )


def test_constant_scorer_has_auc_one_half_and_alerts_everything() -> None:
    test = _four_shipments()
    metrics = run(test, np.full(len(test), 0.7))
    assert metrics.model.roc_auc == 0.5
    alerts = metrics.model.at_threshold
    assert alerts.recall == 1.0
    assert alerts.precision == 0.5
    assert alerts.false_alerts_per_1000_on_time == 1000.0


def test_false_alerts_are_counted_per_shipment_not_per_row() -> None:
    ships = [Ship(f"O{i}", scans=[1, 2, 3, 4], promised=48, delivered=30) for i in range(4)]
    ships.append(Ship("L", scans=[1], promised=48, delivered=50))
    test = make_examples(ships)
    risk = np.zeros(len(test))
    risk[:4] = 0.9  # every scan of O0, none of the others
    alerts = run(test, risk).model.at_threshold
    assert alerts.false_alerts == 1
    assert alerts.false_alerts_per_1000_on_time == pytest.approx(250.0)
    assert alerts.recall == 0.0
    assert alerts.precision == 0.0


def test_lead_time_is_promise_minus_first_alerting_scan() -> None:
    # rows deliberately not in time order: the first alert in *time* counts
    test = make_examples(
        [
            Ship("A", scans=[20, 0, 10], promised=48, delivered=70),
            Ship("B", scans=[30, 50], promised=48, delivered=None),
            Ship("O", scans=[5], promised=48, delivered=20),
        ]
    )
    risk = np.array([0.95, 0.1, 0.9, 0.2, 0.8, 0.0])
    lead = run(test, risk).model.at_threshold.lead_time_hours
    # A: first alerting scan at 10 h -> 38 h ahead; B: alert at 50 h -> 2 h after the promise
    assert lead.alerted_late_shipments == 2
    assert lead.median == pytest.approx(18.0)
    assert lead.mean == pytest.approx(18.0)
    assert lead.p25 == pytest.approx(8.0)
    assert lead.p75 == pytest.approx(28.0)
    assert lead.share_at_least_24h == 0.5
    assert lead.late_shipments_alerted_at_least_24h_ahead == 0.5


def test_edge_cases_give_nulls_not_errors() -> None:
    on_time_only = make_examples([Ship(f"O{i}", [1, 2], 48, 30) for i in range(3)])
    metrics = run(on_time_only, np.full(len(on_time_only), 0.2))
    model = metrics.model
    assert model.roc_auc is None and model.pr_auc is None and model.calibration is None
    alerts = model.at_threshold
    assert alerts.recall is None  # no late shipment
    assert alerts.precision is None  # nothing alerted
    assert alerts.lead_time_hours.median is None
    assert metrics.comparison.model_beats_all_baselines is False
    json.dumps(metrics.to_json(), allow_nan=False)

    empty = run(make_examples([]), np.zeros(0))
    assert empty.data.shipments == 0
    json.dumps(empty.to_json(), allow_nan=False)


def test_scores_outside_unit_interval_get_no_brier_and_nan_is_rejected() -> None:
    test = _four_shipments()
    metrics = run(test, np.arange(len(test), dtype=float), threshold=3)
    assert metrics.model.brier is None
    assert metrics.model.calibration is None
    with pytest.raises(ValueError, match="NaN"):
        run(test, np.full(len(test), np.nan))
    with pytest.raises(ValueError, match="shape"):
        run(test, np.zeros(3))


def test_interval_coverage_on_a_hand_case() -> None:
    test = make_examples(
        [
            Ship("A", scans=[0, 10], promised=48, delivered=40),  # actual 40, 30
            Ship("B", scans=[0], promised=48, delivered=20),  # actual 20
            Ship("C", scans=[0], promised=48, delivered=None),  # never delivered: ignored
        ]
    )
    quantiles = {
        "p10": np.array([35.0, 31.0, 10.0, 1.0]),
        "p50": np.array([38.0, 33.0, 26.0, 5.0]),
        "p90": np.array([45.0, 40.0, 19.0, 9.0]),
    }
    interval = run(test, np.zeros(len(test)), quantile_hours=quantiles).interval
    assert interval.delivered_rows == 3
    assert interval.coverage == pytest.approx(1 / 3)  # only 40 in [35, 45]
    assert interval.below_p10 == pytest.approx(1 / 3)  # 30 < 31
    assert interval.above_p90 == pytest.approx(1 / 3)  # 20 > 19
    assert interval.p50_median_abs_error_hours == pytest.approx(3.0)  # errors 2, 3, 6
    assert interval.p50_mean_abs_error_hours == pytest.approx(11 / 3)


# --- baselines ------------------------------------------------------------------------------


def _lane_ships(prefix: str, n: int, transit: float, **fields) -> list[Ship]:
    return [
        Ship(f"{prefix}{i}", scans=[1.0], promised=48, delivered=transit + i, **fields)
        for i in range(n)
    ]


def test_baselines_use_training_only_and_fall_back_for_thin_or_new_lanes() -> None:
    train = make_examples(
        _lane_ships("A", 10, 20.0)  # US-CA -> US-NY ground: 20..29 h, own p90
        + _lane_ships("B", 9, 100.0, origin="US-TX")  # thin lane: falls back
        + _lane_ships("X", 5, 60.0, service="express")  # thin service level: falls back to global
    )
    baselines = fit_baselines(train)
    lane_a = float(np.quantile(np.arange(20.0, 30.0), 0.9))
    ground = float(np.quantile(np.r_[np.arange(20.0, 30.0), np.arange(100.0, 109.0)], 0.9))
    every = np.r_[np.arange(20.0, 30.0), np.arange(100.0, 109.0), np.arange(60.0, 65.0)]
    assert baselines.lane_p90_hours == {("US-CA", "US-NY", "ground"): pytest.approx(lane_a)}
    assert baselines.service_level_p90_hours == {"ground": pytest.approx(ground)}
    assert baselines.global_p90_hours == pytest.approx(float(np.quantile(every, 0.9)))

    test = make_examples(
        [
            Ship("t1", scans=[2.0], promised=48, delivered=500),  # lane A (late in test!)
            Ship("t2", scans=[2.0], promised=48, delivered=30, origin="US-TX"),  # thin lane
            Ship("t3", scans=[2.0], promised=48, delivered=30, origin="US-WA"),  # test-only lane
            Ship("t4", scans=[70.0], promised=48, delivered=80, service="express"),
        ]
    )
    scores = baselines.scores(test)
    assert set(scores) == set(BASELINE_NAMES)
    expected_p90 = [lane_a, ground, ground, baselines.global_p90_hours]
    hours_since_order = np.array([2.0, 2.0, 2.0, 70.0])
    np.testing.assert_allclose(
        scores["lane_p90"], np.maximum(expected_p90, hours_since_order) - 48.0
    )
    np.testing.assert_allclose(scores["slack_to_promise"], [-46.0, -46.0, -46.0, 22.0])
    # what the test split holds never changes what was learnt
    assert fit_baselines(train) == baselines


def test_carrier_late_rate_is_per_shipment_with_global_fallback() -> None:
    train = make_examples(
        [Ship("U1", [1, 2, 3, 4, 5], 48, 60, carrier="ups")]  # many rows, one late shipment
        + [Ship(f"U{i}", [1], 48, 30, carrier="ups") for i in range(2, 5)]
        + [Ship(f"F{i}", [1], 48, 60 if i < 2 else 30, carrier="fedex") for i in range(4)]
    )
    baselines = fit_baselines(train)
    assert baselines.carrier_late_rate == {"ups": 0.25, "fedex": 0.5}
    assert baselines.global_late_rate == pytest.approx(3 / 8)
    test = make_examples(
        [Ship("n1", [1], 48, 30, carrier="ups"), Ship("n2", [1], 48, 30, carrier="brand-new")]
    )
    np.testing.assert_allclose(baselines.scores(test)["carrier_late_rate"], [0.25, 3 / 8])


def test_lane_p90_with_no_delivered_training_shipment_degrades_to_slack() -> None:
    baselines = fit_baselines(make_examples([Ship("L", [1], 48, None)]))
    test = make_examples([Ship("t", [10], 48, 30)])
    scores = baselines.scores(test)
    assert scores["lane_p90"][0] == scores["slack_to_promise"][0] == -38.0


# --- equal false-alert rate and comparison --------------------------------------------------


def test_threshold_at_false_alert_count_is_the_lowest_within_budget() -> None:
    shipment_max = np.array([0.9, 0.8, 0.8, 0.5, 0.3, 0.7, 0.2])
    late = np.array([True, False, False, False, False, True, True])
    # on-time maxima: 0.8, 0.8, 0.5, 0.3
    assert threshold_at_false_alert_count(shipment_max, late, 0) == 0.9
    assert threshold_at_false_alert_count(shipment_max, late, 1) == 0.9  # tie: 2 or none
    assert threshold_at_false_alert_count(shipment_max, late, 2) == 0.7
    assert threshold_at_false_alert_count(shipment_max, late, 3) == 0.5
    assert threshold_at_false_alert_count(shipment_max, late, 4) == 0.2
    assert threshold_at_false_alert_count(np.array([0.4]), np.array([False]), 0) == math.inf


@pytest.fixture(scope="module")
def split() -> tuple[Examples, Examples, np.ndarray]:
    train, _ = synthetic(300, seed=1)
    test, risk = synthetic(400, seed=2, start=1000.0)
    return train, test, risk


@pytest.mark.parametrize("threshold", [0.05, 0.2, 0.5, 0.8, 0.99])
def test_baselines_never_exceed_the_models_false_alert_rate(split, threshold: float) -> None:
    train, test, risk = split
    metrics = run(test, risk, threshold, baseline_scores=fit_baselines(train).scores(test))
    model_rate = metrics.model.at_threshold.false_alerts_per_1000_on_time
    for name in BASELINE_NAMES:
        section = metrics.baselines[name].at_equal_false_alert_rate
        assert section.false_alerts_per_1000_on_time <= model_rate
        if section.threshold is not None:  # one notch lower would break the budget
            scores = fit_baselines(train).scores(test)[name]
            lower = scores[scores < section.threshold]
            if len(lower):
                relaxed = run(test, scores, float(lower.max())).model.at_threshold
                assert relaxed.false_alerts_per_1000_on_time > model_rate


def test_model_with_real_signal_beats_all_baselines_and_constant_does_not(split) -> None:
    train, test, risk = split
    baseline_scores = fit_baselines(train).scores(test)
    metrics = run(test, risk, 0.5, baseline_scores=baseline_scores)
    json.dumps(metrics.to_json(), allow_nan=False)
    comparison = metrics.comparison
    assert metrics.model.roc_auc > 0.8
    for name in BASELINE_NAMES:
        diff = comparison.baselines[name]
        assert diff.roc_auc_diff == pytest.approx(
            metrics.model.roc_auc - metrics.baselines[name].roc_auc
        )
    assert comparison.model_beats_all_baselines is True
    assert set(metrics.slices.carrier) == {"ups", "fedex", "dhl"}
    assert set(metrics.slices.service_level) == {"ground", "express"}
    dhl = metrics.slices.carrier["dhl"]
    assert dhl.late_rate > metrics.slices.carrier["ups"].late_rate
    assert sum(s.rows for s in metrics.slices.carrier.values()) == len(test)
    assert metrics.model.calibration.n_bins == 10

    constant = run(test, np.full(len(test), 0.5), 0.5, baseline_scores=baseline_scores)
    assert constant.comparison.model_beats_all_baselines is False
    assert not any(c.roc_auc_higher for c in constant.comparison.baselines.values())


# --- report ---------------------------------------------------------------------------------


def test_write_report_writes_all_files_and_a_card_with_the_headline_numbers(
    split, tmp_path: Path
) -> None:
    train, test, risk = split
    quantiles = {
        "p10": test.hours_to_delivery - 5,
        "p50": test.hours_to_delivery + 1,
        "p90": test.hours_to_delivery + 5,
    }
    metrics = run(
        test, risk, 0.5, baseline_scores=fit_baselines(train).scores(test), quantile_hours=quantiles
    )
    metadata = {"training_data": {"fingerprint": "sha256:abc123", "rows": len(train)}}
    out = tmp_path / "report"
    paths = write_report(
        metrics, out, model_version="v20261102T000000Z-0badc0de", metadata=metadata
    )
    assert sorted(p.name for p in paths) == sorted(
        ["metrics.json", "calibration.png", "roc.png", "lead_time.png", "model_card.md"]
    )
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    for name in ("calibration.png", "roc.png", "lead_time.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC

    saved = json.loads((out / "metrics.json").read_text())
    assert saved["model_version"] == "v20261102T000000Z-0badc0de"
    card = (out / "model_card.md").read_text()
    assert "v20261102T000000Z-0badc0de" in card and "sha256:abc123" in card
    model = saved["model"]
    alerts = model["at_threshold"]
    for number in (
        f"{model['roc_auc']:.3f}",
        f"{model['pr_auc']:.3f}",
        f"{model['brier']:.3f}",
        f"{alerts['recall']:.3f}",
        f"{alerts['false_alerts_per_1000_on_time']:.1f}",
        f"{alerts['lead_time_hours']['median']:.1f}",
        f"{saved['threshold']:.3f}",
        f"{100 * saved['interval']['coverage']:.1f}%",
    ):
        assert number in card
    for name in BASELINE_NAMES:
        assert f"**{name}**" in card
        assert f"{saved['baselines'][name]['roc_auc']:.3f}" in card
        diff = saved["comparison"]["baselines"][name]["roc_auc_diff"]
        assert f"{diff:+.3f}" in card
    assert "beats every baseline" in card
    assert "Known limitations" in card


# --- metrics.json format --------------------------------------------------------------------

METRICS_KEYS_FILE = Path(__file__).with_name("metrics_json_keys.json")


def _json_type(value: object) -> str:
    return "null" if value is None else type(value).__name__


def metrics_key_paths(document: dict) -> list[str]:
    """Every key path of a parsed ``metrics.json``, in file order, with its JSON value type.

    Lists show the types of their items (``list[float]``), so an int that became a float, a
    renamed, moved, dropped or reordered key all change the result.
    """
    paths: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            if path:
                paths.append(f"{path}: dict")
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            paths.append(f"{path}: list[{'|'.join(sorted({_json_type(v) for v in value}))}]")
        else:
            paths.append(f"{path}: {_json_type(value)}")

    walk(document, "")
    return paths


def metrics_json_cases(split: tuple[Examples, Examples, np.ndarray], out: Path) -> dict:
    """``metrics.json`` as :func:`write_report` writes it for a full, a one-class and an empty
    test split: together they hold every section both filled and null."""
    train, test, risk = split
    quantiles = {"p10": test.hours_to_delivery - 5, "p50": test.hours_to_delivery + 1,
                 "p90": test.hours_to_delivery + 5}  # fmt: skip
    baseline_scores = fit_baselines(train).scores(test)
    on_time_only = make_examples([Ship(f"O{i}", [1, 2], 48, 30) for i in range(3)])
    results = {
        "full": run(test, risk, 0.5, baseline_scores=baseline_scores, quantile_hours=quantiles),
        "one_class": run(on_time_only, np.full(len(on_time_only), 0.2)),
        "empty": run(make_examples([]), np.zeros(0)),
    }
    documents = {}
    for case, metrics in results.items():
        write_report(metrics, out / case, model_version="v-keys", metadata={})
        documents[case] = json.loads((out / case / "metrics.json").read_text())
    return documents


def test_metrics_json_keeps_the_keys_recorded_before_the_results_became_dataclasses(
    split, tmp_path: Path
) -> None:
    """``metrics_json_keys.json`` was produced by this test's helpers with the dict-returning
    ``evaluate`` (before the results became dataclasses): readers of ``metrics.json`` rely on
    these paths. A deliberate format change bumps ``METRICS_VERSION`` and rewrites that file."""
    expected = json.loads(METRICS_KEYS_FILE.read_text())
    documents = metrics_json_cases(split, tmp_path)
    assert {case: metrics_key_paths(doc) for case, doc in documents.items()} == expected
