"""Prometheus metrics of the worker: what logistics teams watch (see deploy/grafana)."""

from __future__ import annotations

import re

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Info

from parcelwatch.streams.carriers.carrier_names import known_carrier_ids

OTHER = "other"
UNKNOWN = "unknown"
# Product categories are the merchant's words: the first this many distinct ones a worker sees get
# their own label, later ones count as "other", so the series stay bounded whatever is sent.
MAX_CATEGORY_LABELS = 50
_LABEL_WORD = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# Open refunds by age (days since the return arrived): the gauge's fixed label values.
REFUND_AGE_BUCKETS: tuple[tuple[float, str], ...] = (
    (1, "lt_1d"), (3, "1d_3d"), (7, "3d_7d"), (14, "7d_14d"), (float("inf"), "ge_14d"),
)  # fmt: skip


def bounded_carrier(carrier: str | None) -> str:
    """A carrier as a metric label: a known carrier id, else ``other`` (``unknown`` if none)."""
    if not carrier:
        return UNKNOWN
    return carrier if carrier in known_carrier_ids() else OTHER


def refund_age_label(age_days: float) -> str:
    return next(label for bound, label in REFUND_AGE_BUCKETS if age_days < bound)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.events = Counter(
            "parcelwatch_events",
            "Messages by topic and outcome (applied, duplicate, dead_lettered; unchanged: a "
            "timer's check that found nothing to do; retired: a late input of a shipment removed "
            "after PARCELWATCH_RETENTION_DAYS, not applied).",
            ["topic", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "parcelwatch_dead_letters",
            "Input messages sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.alerts = Counter(
            "parcelwatch_alerts",
            "Alerts emitted, by kind and severity.",
            ["kind", "severity"],
            registry=registry,
        )
        self.notifications = Counter(
            "parcelwatch_notifications",
            "Customer notifications emitted, by kind.",
            ["kind"],
            registry=registry,
        )
        self.escalations = Counter(
            "parcelwatch_escalations",
            "Support cases opened on support-escalations, by reason and priority.",
            ["reason", "priority"],
            registry=registry,
        )
        self.notifications_skipped = Counter(
            "parcelwatch_notifications_skipped",
            "Milestones recorded without a notification, by kind and reason (stale: too old to "
            "tell, e.g. a replayed backlog; window_closed: a review request past the window).",
            ["kind", "reason"],
            registry=registry,
        )
        self.checks_requested = Counter(
            "parcelwatch_checks_requested",
            "Shipment checks sent by this worker's timer (silences, held notifications, reviews).",
            registry=registry,
        )
        self.timer_sweeps = Counter(
            "parcelwatch_timer_sweeps",
            "Timer sweeps over the local shipments table, by outcome: done; failed (see the log); "
            "interrupted (by a rebalance); skipped_rebalancing; skipped_unassigned (no "
            "partitions); skipped_lagging (inputs not caught up: a silence may be a backlog).",
            ["outcome"],
            registry=registry,
        )
        self.timer_due_rows = Gauge(
            "parcelwatch_timer_due_rows",
            "Rows of this worker's partitions with a next check scheduled (the timer's due index).",
            registry=registry,
        )
        self.timer_sweep_seconds = Histogram(
            "parcelwatch_timer_sweep_seconds",
            "Seconds per timer sweep over the local shipments table (the rows due, and the whole "
            "table when the assignment changed or PARCELWATCH_TIMER_FULL_WALK_SECONDS passed).",
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60),
            registry=registry,
        )
        self.deliveries = Counter(
            "parcelwatch_deliveries",
            "Shipments seen delivered, by whether they met the promise (unknown: no order seen).",
            ["on_time"],
            registry=registry,
        )
        # One observation per batch, so both are distributions of batches; the mean time per
        # message is rate(parcelwatch_processing_seconds_sum) / rate(parcelwatch_batch_size_sum).
        self.processing_seconds = Histogram(
            "parcelwatch_processing_seconds",
            "Seconds per batch of input messages to decode, apply, score, publish and store them "
            "(see parcelwatch_batch_size for the number of messages).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.batch_size = Histogram(
            "parcelwatch_batch_size",
            "Input messages per processed batch (those the input ledger admitted).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2500, 5000, 10000),
            registry=registry,
        )
        self.event_age_seconds = Histogram(
            "parcelwatch_event_age_seconds",
            "Processing time minus the scan's event time (carrier and pipeline latency).",
            buckets=(1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 7 * 86400),
            registry=registry,
        )
        self.input_skipped = Counter(
            "parcelwatch_input_skipped",
            "Input messages handed over but not applied yet, by reason: skipped_rebalancing "
            "(tables not restored), skipped_gap (earlier offsets missing: the partition is "
            "rewound), skipped_stale (fetched before a rewind), skipped_not_assigned, "
            "skipped_held (waits while another topic of its partition is rewound), "
            "skipped_unstarted (no offset applied yet: waits for the log's first). Each is "
            "read again and then counted in parcelwatch_events_total.",
            ["topic", "reason"],
            registry=registry,
        )
        self.bulk_restores = Counter(
            "parcelwatch_bulk_restores",
            "Table restores read from the changelog in bulk (runtime/bulk_restore.py), by outcome: "
            "complete, budget_spent (Faust's recovery read the rest), failed (the same).",
            ["outcome"],
            registry=registry,
        )
        self.bulk_restored_records = Counter(
            "parcelwatch_bulk_restored_records",
            "Changelog records written to the tables' stores by bulk restores.",
            registry=registry,
        )
        self.bulk_restore_seconds = Histogram(
            "parcelwatch_bulk_restore_seconds",
            "Seconds per bulk restore (reading and writing; Faust's recovery then reads the tail).",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60),
            registry=registry,
        )
        self.input_rewinds = Counter(
            "parcelwatch_input_rewinds",
            "Input partitions sent back to their next unapplied offset (offsets had been skipped).",
            ["topic"],
            registry=registry,
        )
        self.input_offsets_absent = Counter(
            "parcelwatch_input_offsets_absent",
            "Input offsets found missing from the log itself (compaction, transaction markers, "
            "retention) after a rewind.",
            ["topic"],
            registry=registry,
        )
        self.commit_repairs = Counter(
            "parcelwatch_commit_repairs",
            "Input partitions whose applied offsets the worker committed itself: Faust's commits "
            "had left the consumer group's offset behind.",
            ["topic"],
            registry=registry,
        )
        self.publish_retries = Counter(
            "parcelwatch_publish_retries",
            "Output messages retried because the broker could not take them (outages).",
            ["topic"],
            registry=registry,
        )
        self.worker_alive = Gauge(
            "parcelwatch_worker_alive",
            "1 while the worker makes progress (what /healthz answers).",
            registry=registry,
        )
        self.worker_ready = Gauge(
            "parcelwatch_worker_ready",
            "1 while the worker processes its partitions (what /readyz answers).",
            registry=registry,
        )
        self.input_lag = Gauge(
            "parcelwatch_input_lag",
            "Input messages waiting on this worker's partitions (end offset - next to apply).",
            registry=registry,
        )
        self.scored = Counter(
            "parcelwatch_scored",
            "Scans scored by the delay-risk model.",
            registry=registry,
        )
        self.model_loaded = Gauge(
            "parcelwatch_model_loaded",
            "1 while a delay-risk model is loaded; 0 while the worker runs its rules only.",
            registry=registry,
        )
        self.model_updates_rejected = Counter(
            "parcelwatch_model_updates_rejected",
            "Model announcements that did not switch the model, by reason: malformed, unsigned, "
            "bad_signature (with PARCELWATCH_MODEL_SIGNING_KEY set), stale (not newer than the "
            "one in force: a replay, or history read at start-up), not_loadable (unknown version "
            "or checksum mismatch in the model directory).",
            ["reason"],
            registry=registry,
        )
        self.model_info = Info(
            "parcelwatch_model",
            "The delay-risk model version in use.",
            registry=registry,
        )
        # Pain points (streams/pipeline/pain_points.py). Labels are bounded by fixed lists:
        # never a carrier or a region.
        self.pain_point_spikes = Counter(
            "parcelwatch_pain_point_spikes",
            "Pain-point spikes published, by feedback topic.",
            ["topic"],
            registry=registry,
        )
        self.pain_point_windows_closed = Counter(
            "parcelwatch_pain_point_windows_closed",
            "Pain-point windows closed with a summary published, by size (hour, day).",
            ["size"],
            registry=registry,
        )
        self.pain_point_late_tallies = Counter(
            "parcelwatch_pain_point_late_tallies",
            "Flagged feedback that came after its hour's or day's window had closed (counted as a "
            "late arrival in the next summary, not in the closed window).",
            registry=registry,
        )
        # Customer feedback, recorded by the feedback pipeline (issue 10); shown on the dashboard.
        self.feedback_flagged = Counter(
            "parcelwatch_feedback_flagged",
            "Feedback published on feedback-flagged, by flag reason.",
            ["reason"],
            registry=registry,
        )
        self.feedback_topics = Counter(
            "parcelwatch_feedback_topics",
            "Topics detected in flagged feedback (a piece of feedback may have several).",
            ["topic"],
            registry=registry,
        )
        self.feedback_waiting = Gauge(
            "parcelwatch_feedback_waiting",
            "Feedback waiting for its order's shipments (at most PARCELWATCH_FEEDBACK_WAIT_HOURS; "
            "in this worker's partitions, as of the timer's latest full walk).",
            registry=registry,
        )
        self.feedback_unmatched = Counter(
            "parcelwatch_feedback_unmatched",
            "Feedback published as unmatched: no shipment of its order was seen within the wait.",
            registry=registry,
        )
        # The feedback analyzer's learned part, announced on the same topic (model "feedback");
        # apart from the delay-risk series above, which keep their names and labels.
        self.feedback_model_loaded = Gauge(
            "parcelwatch_feedback_model_loaded",
            "1 while the feedback analyzer runs a learned polarity model (promoted or built in); "
            "0 while it runs its rules only.",
            registry=registry,
        )
        self.feedback_model_updates_rejected = Counter(
            "parcelwatch_feedback_model_updates_rejected",
            "Feedback model announcements that did not switch the model, by reason (the reasons "
            "of parcelwatch_model_updates_rejected).",
            ["reason"],
            registry=registry,
        )
        self.feedback_model_info = Info(
            "parcelwatch_feedback_model",
            "The feedback analyzer version in use.",
            registry=registry,
        )
        # Raw carrier payloads (streams/pipeline/carrier_raw.py). The only label is the source:
        # the contract's names (or "unknown" for an unreadable envelope), never a code, a text or
        # a tracking number from the payload.
        self.carrier_raw_messages = Counter(
            "parcelwatch_carrier_raw_messages",
            "carrier-raw messages by source and outcome: normalized (scans published), empty (no "
            "events: a webhook about something else, an empty history), carrier_error (only the "
            "carrier's error answer; dead-lettered), dead_lettered (invalid envelope or "
            "unreadable payload).",
            ["source", "outcome"],
            registry=registry,
        )
        self.carrier_raw_scans = Counter(
            "parcelwatch_carrier_raw_scans",
            "Scans published on carrier-scans from carrier-raw messages, by source (a resent "
            "history counts again; the tracking agent counts its duplicates).",
            ["source"],
            registry=registry,
        )
        self.carrier_errors = Counter(
            "parcelwatch_carrier_errors",
            "Error answers in carrier-raw payloads (bad credentials, unknown tracking number), by "
            "source; one payload may hold several.",
            ["source"],
            registry=registry,
        )
        self.carrier_codes_unmapped = Counter(
            "parcelwatch_carrier_codes_unmapped",
            "Carrier events whose code (or words) no mapping table entry matched, published with "
            "status unknown, by source; the worker logs each code (never its description).",
            ["source"],
            registry=registry,
        )
        # Live model quality (streams/core/model_watch.py): per model version and moment
        # (pickup, promise_minus_24h), over the rolling window of outcomes of the partitions this
        # worker owns. Versions are few (promoted ones and the baseline:<name> fallbacks).
        self.model_outcomes = Counter(
            "parcelwatch_model_outcomes",
            "Outcome records sent on model-outcomes (one per scored shipment and moment, once "
            "its outcome is known).",
            registry=registry,
        )
        self.model_outcomes_counted = Counter(
            "parcelwatch_model_outcomes_counted",
            "Messages on model-outcomes read by the monitoring windows, by outcome: counted; "
            "duplicate (its outcome_id was counted before); too_old (decided before the window).",
            ["outcome"],
            registry=registry,
        )
        self.model_heldout_roc_auc = Gauge(
            "parcelwatch_model_heldout_roc_auc",
            "ROC-AUC of the model version on its held-out split (its model card), set by the "
            "model holder: the yardstick for parcelwatch_model_live_roc_auc.",
            ["model_version"],
            registry=registry,
        )
        self.model_live_roc_auc = Gauge(
            "parcelwatch_model_live_roc_auc",
            "Live ROC-AUC of the risk issued at the moment against lateness, over the window "
            "(absent while the window holds one class only).",
            ["model_version", "moment"],
            registry=registry,
        )
        self.model_live_brier = Gauge(
            "parcelwatch_model_live_brier",
            "Live Brier score (mean squared error of the risk against lateness) over the window.",
            ["model_version", "moment"],
            registry=registry,
        )
        self.model_live_late_rate = Gauge(
            "parcelwatch_model_live_late_rate",
            "Share of the window's outcomes that were late.",
            ["model_version", "moment"],
            registry=registry,
        )
        self.model_live_outcomes = Gauge(
            "parcelwatch_model_live_outcomes",
            "Outcomes in the window (what the live figures are computed over).",
            ["model_version", "moment"],
            registry=registry,
        )
        self.model_live_alert_precision = Gauge(
            "parcelwatch_model_live_alert_precision",
            "Share of the shipments alerted for delay risk that were late, over the window "
            "(outcomes with a pickup risk: each shipment once; absent without alerts).",
            ["model_version"],
            registry=registry,
        )
        self.model_live_calibration_predicted = Gauge(
            "parcelwatch_model_live_calibration_predicted",
            "Mean risk issued, per tenth of risk, over the window.",
            ["model_version", "moment", "risk_band"],
            registry=registry,
        )
        self.model_live_calibration_observed = Gauge(
            "parcelwatch_model_live_calibration_observed",
            "Observed late rate of the outcomes per tenth of risk issued, over the window.",
            ["model_version", "moment", "risk_band"],
            registry=registry,
        )
        # Returns and refunds (streams/pipeline/returns_flow.py). Labels are bounded: carriers
        # by the known carrier ids, reasons by the contract's list, categories by
        # MAX_CATEGORY_LABELS.
        self._categories: set[str] = set()
        self.returns = Counter(
            "parcelwatch_returns",
            "Returns requested, by the carrier that delivered the order (other: not a known "
            "carrier; unknown: no shipment of the order seen), the items' product category "
            "(mixed: several; unknown: none given) and the return reason.",
            ["carrier", "category", "reason"],
            registry=registry,
        )
        self.deliveries_by_carrier = Counter(
            "parcelwatch_deliveries_by_carrier",
            "Outbound shipments seen delivered, by carrier (the denominator of the return rate).",
            ["carrier"],
            registry=registry,
        )
        self.refund_seconds = Histogram(
            "parcelwatch_refund_seconds",
            "Time from a return's arrival back at the merchant to its refund being issued.",
            buckets=tuple(hours * 3600 for hours in (1, 6, 24, 48, 72, 120, 168, 336, 720)),
            registry=registry,
        )
        self.refunds_open = Gauge(
            "parcelwatch_refunds_open",
            "Returns received and not refunded yet, by age since the return arrived (in this "
            "worker's partitions, as of the timer's latest full walk of the table).",
            ["age"],
            registry=registry,
        )

    def bulk_restored(self, outcome: str, records: int, seconds: float) -> None:
        """A bulk restore's report (runtime/bulk_restore.py's ``RestoreReport``)."""
        self.bulk_restores.labels(outcome).inc()
        self.bulk_restored_records.inc(records)
        self.bulk_restore_seconds.observe(seconds)

    def category_label(self, category: str) -> str:
        word = category.strip().lower().replace(" ", "_")
        if not _LABEL_WORD.fullmatch(word):
            return OTHER
        if word in self._categories or len(self._categories) < MAX_CATEGORY_LABELS:
            self._categories.add(word)
            return word
        return OTHER
