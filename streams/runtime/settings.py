"""Runtime settings, read once from the environment at start-up (never at import time)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from parcelwatch.models.signing import MIN_KEY_BYTES
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.escalations import EscalationPolicy
from parcelwatch.streams.core.follow_up import FollowUpPolicy
from parcelwatch.streams.core.local_time import QuietHours, parse_quiet_hours
from parcelwatch.streams.core.model_watch import DEFAULT_WINDOW_DAYS
from parcelwatch.streams.core.notifications import NotificationPolicy
from parcelwatch.streams.core.pain_points import SpikePolicy
from parcelwatch.streams.core.retention import MIN_RETENTION, RetentionPolicy
from parcelwatch.streams.core.returns import DEFAULT_REFUND_DELAY_BUSINESS_DAYS, ReturnPolicy
from parcelwatch.streams.core.silence import SilencePolicy

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
MIN_API_TOKEN_CHARS = 16
_API_TOKEN = re.compile(r"[!-~]+")  # visible ASCII: what an Authorization header can carry
MIN_RETENTION_DAYS = MIN_RETENTION / timedelta(days=1)  # one second: tests use seconds
# A static member is waited for this long at least, so that a restart (~10 s) fits in its session.
STATIC_SESSION_SECONDS = 30.0
_INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,248}")  # Kafka's group.instance.id rules


class SettingsError(ValueError):
    """An environment variable holds a value parcelwatch cannot use."""


@dataclass(frozen=True)
class KafkaSecurity:
    """TLS / SASL settings shared by the worker, the simulator and the admin client."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @property
    def uses_ssl(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")


@dataclass(frozen=True)
class Settings:
    """Everything a parcelwatch process needs to know about its environment."""

    broker: str = "kafka://127.0.0.1:9092"
    app_id: str = "parcelwatch"
    topic_prefix: str = ""
    partitions: int = 4
    replication_factor: int = 1
    data_dir: Path = Path(".parcelwatch/worker")
    store: str = "rocksdb://"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    max_payload_bytes: int = 64 * 1024
    max_clock_skew_hours: float = 24.0
    log_level: str = "info"
    model_dir: Path | None = None  # without one the worker runs its rules only
    risk_threshold: float | None = None  # None: the threshold stored with the model
    risk_hysteresis: float = 0.15
    # A batch's fixed costs (the model's tree walk, a produce round trip, the ledger's writes)
    # are paid once per batch: on a backlog, 512 inputs in 100 ms gave 5-8% more throughput with a
    # model than 256 in 50 ms (streams/devtools/bench/NOTES.md). The price: the event loop is held
    # longer per batch while a backlog drains (~0.4 s instead of ~0.2 s), and with it /metrics
    # and lookups.
    batch_size: int = 512
    # The longest a batch waits for more inputs: it goes earlier when full, or once it holds every
    # record fetched so far (take_batches), so a live stream rarely waits it out. A backlog's
    # batches fill within it: Faust hands a worker ~5,000 inputs/s.
    batch_seconds: float = 0.1
    # Faust's producer waits this long to fill a produce request. At 0 every few messages cost a
    # request of their own (encoding, a socket write, an ack to await): measured on a backlog, 5 ms
    # took a sixth off the worker's CPU per event, and a batch waits for its acks anyway.
    producer_linger_ms: float = 5.0
    # The most one produce batch per partition holds (Faust's producer_max_batch_size). aiokafka
    # makes a send wait while its partition's batch is full until that batch is sent and the
    # broker's previous request answered: at 16 KB (the default) a batch's dead letters and
    # notifications waited out round trips one after another (up to 2 s for one batch).
    producer_max_batch_bytes: int = 256 * 1024
    # How long the broker may hold a fetch waiting for data (see runtime/fetch_wait.py): Faust's
    # fixed 1,500 ms stalled backlogs whenever some partitions caught up before others.
    fetch_max_wait_ms: int = 100
    # Threads per model call (OpenMP in scikit-learn's gradient boosting). One: the event loop and
    # the broker share the cores, and busy OpenMP threads waited on each other (a batch's scoring
    # was ten times slower on a loaded machine with two threads than with one).
    model_threads: int = 1
    # Decoded states of the shipments written last, kept for their next event (about 7 KB each
    # in memory; 0: none). Cleared at every rebalance.
    state_cache_size: int = 10_000
    # Table values stored deflated (schemas/stored_value.py): a shipment's state and its order's
    # row take ~40% of their JSON on disk and in the changelog, for ~20-50 µs per write (5-8% of
    # a worker's throughput with a model). Off: JSON text. Either way both forms are read.
    store_deflated: bool = True
    # Faust's own Prometheus sensors (parcelwatch_faust_*): several labelled updates per event,
    # about 4% of a worker's CPU, and no panel or alert of ours reads them.
    faust_metrics: bool = False
    # Allocations between young-generation garbage collections (Python's default: 700); see
    # garbage_collection.tune_garbage_collector, which also freezes what start-up built.
    gc_young_threshold: int = 200_000
    # Every this many seconds the objects tracked so far are frozen out of the collector's walks
    # (0: Python's own pacing), and every this many minutes all are collected once; see
    # streams/runtime/garbage_collection.py.
    gc_freeze_seconds: float = 5.0
    gc_full_collection_minutes: float = 10.0
    follow_up_policy: FollowUpPolicy = field(default_factory=FollowUpPolicy)  # silences, notices
    check_interval_seconds: float = 60.0  # how often the timer sweeps the local table
    timer_max_lag: int = 1000  # skip a sweep while inputs lag more than this many messages
    # Sweeps read only the rows that are due (an in-memory index); the whole table is walked when
    # the assignment changes and every this many seconds, as a safety net (0: every sweep).
    timer_full_walk_seconds: float = 3600.0
    # A settled shipment's state is removed this long after it settles (a small marker stays),
    # and the marker this long after that (then the tracking number may start a new shipment).
    retention_days: float = 30.0
    retired_memory_days: float = 180.0
    # Feedback for an order not seen yet waits this long for a shipment, then goes out unmatched.
    feedback_wait_hours: float = 168.0
    template_dir: Path | None = None  # None: the built-in templates
    # A received return without a refund this many business days later: refund_delayed / overdue.
    refund_delay_business_days: int = DEFAULT_REFUND_DELAY_BUSINESS_DAYS
    # Support cases: when a stalled parcel is presumed lost, when an owed refund needs a person.
    escalation_policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    security: KafkaSecurity = field(default_factory=KafkaSecurity)
    # Static group membership (a stable, unique name per worker). None, the default: dynamic
    # membership. Only worth it with a session longer than a restart (README, Scaling out).
    instance_id: str | None = None
    session_timeout_seconds: float = 10.0  # how soon a dead worker's partitions move on
    # Warm copies of each table partition kept on other workers (Faust's table_standby_replicas):
    # a takeover then reads only the changelog's tail, not the whole partition.
    standby_replicas: int = 1
    # A worker restoring a RocksDB table reads its changelog in bulk for up to this long before
    # Faust's record-at-a-time recovery reads the rest (runtime/bulk_restore.py); 0: Faust only.
    # At most 60: the step runs inside Faust's 90 s broker request timeout.
    restore_bulk_seconds: float = 60.0
    stuck_after_seconds: float = 120.0  # input waiting, nothing applied: /healthz fails
    recovery_timeout_seconds: float = 900.0  # rebalancing/restoring longer: /healthz fails
    exit_when_stuck: bool = True  # an unhealthy worker stops itself (non-zero exit)
    # RocksDB memory per table partition: memtables (write buffers) and block cache. Faust's
    # defaults (3 x 64 MiB + 2 GiB per partition) let a worker's RSS climb for hours.
    rocksdb_write_buffer_mb: int = 8
    rocksdb_block_cache_mb: int = 32
    # The tables' changelog segments. Compaction never touches a partition's active segment, so
    # with Kafka's defaults (1 GiB, 7 days) a worker restoring onto an empty disk replays every
    # write of up to a week. Smaller, younger segments let the log cleaner keep each changelog near
    # one value per key (only for changelog topics the worker creates; see the README). 6 MiB of
    # deflated values hold as many records as 16 MiB of JSON text did: with 16 MiB the open
    # segments kept 2.6 times more writes uncompacted, and a restore took 31-43 s instead of 16-18.
    changelog_segment_mb: int = 6
    changelog_segment_hours: float = 1.0
    # Authenticates model versions and promotions (models/signing.py); a secret, so not in repr.
    model_signing_key: bytes | None = field(default=None, repr=False)
    # Pain points: a window closes this long after its end (later feedback is a late arrival)
    pain_point_grace: timedelta = timedelta(minutes=60)
    pain_point_spikes: SpikePolicy = field(default_factory=SpikePolicy)
    pain_point_interval_seconds: float = 60.0  # how often the timer looks for due windows
    # Live model monitoring: the rolling window of outcomes (UTC days of their event time) and
    # how often each worker publishes its versions' summaries on model-monitoring.
    model_monitoring_window_days: int = DEFAULT_WINDOW_DAYS
    model_monitoring_interval_seconds: float = 300.0
    # Bearer tokens of the lookup API (/v1/...); none: the API is off. Secrets, so not in repr.
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    # Signs the customer tracking page's links (/track/...); none: the page is off. A secret.
    tracking_page_key: bytes | None = field(default=None, repr=False)

    @property
    def rocksdb_options(self) -> dict[str, int]:
        """Per table partition; two write buffers, so memory stays near 2 x buffer + cache."""
        return {
            "write_buffer_size": self.rocksdb_write_buffer_mb * 2**20,
            "max_write_buffer_number": 2,
            "block_cache_size": self.rocksdb_block_cache_mb * 2**20,
        }

    @property
    def changelog_topic_configs(self) -> dict[str, str]:
        """Kafka topic settings of the changelog topics the worker creates."""
        return {
            "segment.bytes": str(self.changelog_segment_mb * 2**20),
            "segment.ms": str(round(self.changelog_segment_hours * 3_600_000)),
        }

    def static_membership_advice(self) -> str | None:
        """Why static membership is not recommended, for the log; None when it is off."""
        if self.instance_id is None:
            return None
        advice = (
            "PARCELWATCH_INSTANCE_ID is set (static membership): with faust-streaming 0.15 a "
            "restarted static member that got its partitions back without a rebalance can stall "
            "(ready, nothing processed; seen in parcelwatch's scale-out scenario). Prefer dynamic "
            "membership with the 10 s session and a standby replica (README, Scaling out)"
        )
        if self.session_timeout_seconds < STATIC_SESSION_SECONDS:
            advice += (
                f"; with a {self.session_timeout_seconds:g} s session a restart (~10 s) also "
                "misses it and the group rebalances twice"
            )
        return advice

    @property
    def topics(self) -> TopicNames:
        return TopicNames.with_prefix(self.topic_prefix)

    @property
    def limits(self) -> Limits:
        """The input limits every agent decodes with."""
        return Limits(
            max_payload_bytes=self.max_payload_bytes,
            max_clock_skew_hours=self.max_clock_skew_hours,
        )

    @property
    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            retention=timedelta(days=self.retention_days),
            retired_memory=timedelta(days=self.retired_memory_days),
            expired_after=self.follow_up_policy.silence.expired_after,
        )

    @property
    def return_policy(self) -> ReturnPolicy:
        return ReturnPolicy(refund_delay_business_days=self.refund_delay_business_days)

    @property
    def bootstrap_servers(self) -> str:
        """The broker list without faust's ``kafka://`` scheme, as aiokafka wants it."""
        return ",".join(part.split("://", 1)[-1] for part in self.broker.split(","))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _EnvReader(env)
        security = KafkaSecurity(
            protocol=reader.choice("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", SECURITY_PROTOCOLS),
            sasl_mechanism=reader.choice("KAFKA_SASL_MECHANISM", "PLAIN", SASL_MECHANISMS),
            sasl_username=reader.optional("KAFKA_SASL_USERNAME"),
            sasl_password=reader.optional("KAFKA_SASL_PASSWORD"),
            ssl_cafile=reader.optional("KAFKA_SSL_CAFILE"),
            ssl_certfile=reader.optional("KAFKA_SSL_CERTFILE"),
            ssl_keyfile=reader.optional("KAFKA_SSL_KEYFILE"),
        )
        if security.uses_sasl and not (security.sasl_username and security.sasl_password):
            raise SettingsError(
                "PARCELWATCH_KAFKA_SASL_USERNAME and PARCELWATCH_KAFKA_SASL_PASSWORD are required "
                f"with PARCELWATCH_KAFKA_SECURITY_PROTOCOL={security.protocol}"
            )
        defaults = cls()
        refund_delay = reader.integer(
            "REFUND_DELAY_BUSINESS_DAYS",
            defaults.refund_delay_business_days,
            minimum=0,
            maximum=366,
        )
        return cls(
            broker=reader.text("KAFKA_BROKER", defaults.broker),
            app_id=reader.text("APP_ID", defaults.app_id),
            topic_prefix=reader.text("TOPIC_PREFIX", defaults.topic_prefix, allow_empty=True),
            partitions=reader.integer("PARTITIONS", defaults.partitions, minimum=1),
            replication_factor=reader.integer(
                "REPLICATION_FACTOR", defaults.replication_factor, minimum=1
            ),
            data_dir=Path(reader.text("DATA_DIR", str(defaults.data_dir))),
            store=reader.text("STORE", defaults.store),
            web_host=reader.text("WEB_HOST", defaults.web_host),
            web_port=reader.integer("WEB_PORT", defaults.web_port, minimum=1, maximum=65535),
            max_payload_bytes=reader.integer(
                "MAX_PAYLOAD_BYTES", defaults.max_payload_bytes, minimum=256
            ),
            max_clock_skew_hours=reader.number(
                "MAX_CLOCK_SKEW_HOURS", defaults.max_clock_skew_hours, minimum=0
            ),
            log_level=reader.choice(
                "LOG_LEVEL", defaults.log_level, ("debug", "info", "warning", "error")
            ),
            model_dir=Path(model_dir) if (model_dir := reader.optional("MODEL_DIR")) else None,
            risk_threshold=reader.optional_number("RISK_THRESHOLD", minimum=0.01, maximum=1.0),
            risk_hysteresis=reader.number(
                "RISK_HYSTERESIS", defaults.risk_hysteresis, minimum=0, maximum=0.5
            ),
            batch_size=reader.integer("BATCH_SIZE", defaults.batch_size, minimum=1, maximum=10_000),
            batch_seconds=reader.number(
                "BATCH_SECONDS", defaults.batch_seconds, minimum=0.001, maximum=10
            ),
            producer_linger_ms=reader.number(
                "PRODUCER_LINGER_MS", defaults.producer_linger_ms, minimum=0, maximum=1000
            ),
            producer_max_batch_bytes=reader.integer(
                "PRODUCER_MAX_BATCH_BYTES",
                defaults.producer_max_batch_bytes,
                minimum=16 * 1024,
                maximum=16 * 1024 * 1024,
            ),
            fetch_max_wait_ms=reader.integer(
                "FETCH_MAX_WAIT_MS", defaults.fetch_max_wait_ms, minimum=0, maximum=30_000
            ),
            model_threads=reader.integer(
                "MODEL_THREADS", defaults.model_threads, minimum=1, maximum=256
            ),
            state_cache_size=reader.integer(
                "STATE_CACHE_SIZE", defaults.state_cache_size, minimum=0, maximum=10_000_000
            ),
            store_deflated=reader.flag("STORE_DEFLATED", defaults.store_deflated),
            faust_metrics=reader.flag("FAUST_METRICS", defaults.faust_metrics),
            gc_young_threshold=reader.integer(
                "GC_YOUNG_THRESHOLD", defaults.gc_young_threshold, minimum=100, maximum=10_000_000
            ),
            gc_freeze_seconds=reader.number(
                "GC_FREEZE_SECONDS", defaults.gc_freeze_seconds, minimum=0, maximum=3600
            ),
            gc_full_collection_minutes=reader.number(
                "GC_FULL_COLLECTION_MINUTES",
                defaults.gc_full_collection_minutes,
                minimum=0.1,
                maximum=10_080,
            ),
            follow_up_policy=_follow_up_policy(reader),
            check_interval_seconds=reader.number(
                "CHECK_INTERVAL_SECONDS", defaults.check_interval_seconds, minimum=0.1
            ),
            timer_max_lag=reader.integer("TIMER_MAX_LAG", defaults.timer_max_lag, minimum=0),
            timer_full_walk_seconds=reader.number(
                "TIMER_FULL_WALK_SECONDS", defaults.timer_full_walk_seconds, minimum=0
            ),
            retention_days=reader.number(
                "RETENTION_DAYS", defaults.retention_days, minimum=MIN_RETENTION_DAYS
            ),
            retired_memory_days=reader.number(
                "RETIRED_MEMORY_DAYS", defaults.retired_memory_days, minimum=MIN_RETENTION_DAYS
            ),
            feedback_wait_hours=reader.number(
                "FEEDBACK_WAIT_HOURS", defaults.feedback_wait_hours, minimum=0, maximum=24 * 366
            ),
            template_dir=Path(folder) if (folder := reader.optional("TEMPLATE_DIR")) else None,
            refund_delay_business_days=refund_delay,
            escalation_policy=_escalation_policy(reader, refund_delay),
            security=security,
            instance_id=reader.optional_text("INSTANCE_ID", pattern=_INSTANCE_ID),
            session_timeout_seconds=reader.number(
                "SESSION_TIMEOUT_SECONDS", defaults.session_timeout_seconds, minimum=6, maximum=300
            ),
            standby_replicas=reader.integer(
                "STANDBY_REPLICAS", defaults.standby_replicas, minimum=0, maximum=8
            ),
            restore_bulk_seconds=reader.number(
                "RESTORE_BULK_SECONDS", defaults.restore_bulk_seconds, minimum=0, maximum=60
            ),
            stuck_after_seconds=reader.number(
                "STUCK_AFTER_SECONDS", defaults.stuck_after_seconds, minimum=10
            ),
            recovery_timeout_seconds=reader.number(
                "RECOVERY_TIMEOUT_SECONDS", defaults.recovery_timeout_seconds, minimum=10
            ),
            exit_when_stuck=reader.flag("EXIT_WHEN_STUCK", defaults.exit_when_stuck),
            rocksdb_write_buffer_mb=reader.integer(
                "ROCKSDB_WRITE_BUFFER_MB", defaults.rocksdb_write_buffer_mb, minimum=1, maximum=1024
            ),
            rocksdb_block_cache_mb=reader.integer(
                "ROCKSDB_BLOCK_CACHE_MB", defaults.rocksdb_block_cache_mb, minimum=1, maximum=65536
            ),
            changelog_segment_mb=reader.integer(
                "CHANGELOG_SEGMENT_MB", defaults.changelog_segment_mb, minimum=1, maximum=1024
            ),
            changelog_segment_hours=reader.number(
                "CHANGELOG_SEGMENT_HOURS",
                defaults.changelog_segment_hours,
                minimum=0.01,
                maximum=24 * 7,
            ),
            model_signing_key=_secret_key(reader, "MODEL_SIGNING_KEY"),
            pain_point_grace=timedelta(
                minutes=reader.number(
                    "PAIN_POINT_GRACE_MINUTES",
                    defaults.pain_point_grace.total_seconds() / 60,
                    minimum=0,
                    maximum=7 * 24 * 60,
                )
            ),
            pain_point_spikes=_spike_policy(reader),
            pain_point_interval_seconds=reader.number(
                "PAIN_POINT_INTERVAL_SECONDS", defaults.pain_point_interval_seconds, minimum=0.1
            ),
            model_monitoring_window_days=reader.integer(
                "MODEL_MONITORING_WINDOW_DAYS",
                defaults.model_monitoring_window_days,
                minimum=1,
                maximum=90,
            ),
            model_monitoring_interval_seconds=reader.number(
                "MODEL_MONITORING_INTERVAL_SECONDS",
                defaults.model_monitoring_interval_seconds,
                minimum=0.1,
            ),
            api_tokens=_api_tokens(reader),
            tracking_page_key=_secret_key(reader, "TRACKING_PAGE_KEY"),
        )


def _api_tokens(reader: _EnvReader) -> tuple[str, ...]:
    """``PARCELWATCH_API_TOKENS``: comma-separated bearer tokens, each at least
    ``MIN_API_TOKEN_CHARS`` visible ASCII characters (errors name the position, never a token)."""
    text = reader.text("API_TOKENS", "", allow_empty=True)
    tokens = tuple(token for token in (part.strip() for part in text.split(",")) if token)
    for position, token in enumerate(tokens, start=1):
        if len(token) < MIN_API_TOKEN_CHARS or not _API_TOKEN.fullmatch(token):
            raise SettingsError(
                f"PARCELWATCH_API_TOKENS: token {position} must be at least "
                f"{MIN_API_TOKEN_CHARS} visible ASCII characters without spaces or commas; "
                "generate one with python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
    return tokens


def _secret_key(reader: _EnvReader, name: str) -> bytes | None:
    """An HMAC-SHA256 key: at least ``MIN_KEY_BYTES`` bytes, or None when unset."""
    text = reader.optional(name)
    if text is None:
        return None
    key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:  # the message names the length, never the value
        raise SettingsError(
            f"PARCELWATCH_{name} must be at least {MIN_KEY_BYTES} bytes, got "
            f"{len(key)}; generate one with "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key


def _spike_policy(reader: _EnvReader) -> SpikePolicy:
    defaults = SpikePolicy()
    return SpikePolicy(
        min_count=reader.integer("PAIN_POINT_MIN_COUNT", defaults.min_count, minimum=1),
        factor=reader.number("PAIN_POINT_FACTOR", defaults.factor, minimum=1.0),
    )


def _escalation_policy(reader: _EnvReader, refund_delay_business_days: int) -> EscalationPolicy:
    defaults = EscalationPolicy()
    refund_days = reader.integer(
        "REFUND_ESCALATION_BUSINESS_DAYS",
        defaults.refund_escalation_business_days,
        minimum=1,
        maximum=366,
    )
    if refund_days <= refund_delay_business_days:  # the second limit comes after the first
        raise SettingsError(
            "PARCELWATCH_REFUND_ESCALATION_BUSINESS_DAYS must be more than "
            "PARCELWATCH_REFUND_DELAY_BUSINESS_DAYS"
        )
    return EscalationPolicy(
        lost_after_promise=reader.hours(
            "LOST_AFTER_PROMISE_HOURS", defaults.lost_after_promise, minimum=0
        ),
        urgent_after_promise=defaults.urgent_after_promise,
        refund_escalation_business_days=refund_days,
    )


def _follow_up_policy(reader: _EnvReader) -> FollowUpPolicy:
    silence_defaults, notify_defaults = SilencePolicy(), NotificationPolicy()
    by_service = ",".join(
        f"{name}={duration.total_seconds() / 3600:g}"
        for name, duration in silence_defaults.stalled_after_by_service.items()
    )
    silence = SilencePolicy(
        forgotten_after=reader.hours("FORGOTTEN_AFTER_HOURS", silence_defaults.forgotten_after),
        stalled_after=reader.hours("STALLED_AFTER_HOURS", silence_defaults.stalled_after),
        stalled_after_by_service=reader.hours_by_name("STALLED_AFTER_HOURS_BY_SERVICE", by_service),
        missed_promise_grace=reader.hours(
            "MISSED_PROMISE_GRACE_HOURS", silence_defaults.missed_promise_grace, minimum=0
        ),
        expired_after=reader.hours("EXPIRED_AFTER_HOURS", silence_defaults.expired_after),
    )
    quiet = notify_defaults.quiet_hours
    default_quiet = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}" if quiet else "off"
    quiet_text = reader.text("QUIET_HOURS", default_quiet, allow_empty=True)
    try:
        quiet_hours: QuietHours | None = parse_quiet_hours(quiet_text)
    except ValueError as error:
        raise SettingsError(f"PARCELWATCH_QUIET_HOURS: {error}") from None
    review_after = reader.hours("REVIEW_AFTER_HOURS", notify_defaults.review_after, minimum=0)
    review_window = reader.hours("REVIEW_WINDOW_HOURS", notify_defaults.review_window)
    if review_after >= review_window:
        raise SettingsError(
            "PARCELWATCH_REVIEW_AFTER_HOURS must be shorter than PARCELWATCH_REVIEW_WINDOW_HOURS"
        )
    notifications = NotificationPolicy(
        quiet_hours=quiet_hours,
        review_after=review_after,
        review_window=review_window,
        stale_after=reader.hours("NOTIFY_STALE_AFTER_HOURS", notify_defaults.stale_after),
    )
    return FollowUpPolicy(silence, notifications)


@dataclass(frozen=True)
class _EnvReader:
    env: Mapping[str, str]
    prefix: str = "PARCELWATCH_"

    def optional(self, name: str) -> str | None:
        value = self.env.get(self.prefix + name, "").strip()
        return value or None

    def text(self, name: str, default: str, *, allow_empty: bool = False) -> str:
        raw = self.env.get(self.prefix + name)
        if raw is None:
            return default
        value = raw.strip()
        if not value and not allow_empty:
            raise SettingsError(f"{self.prefix}{name} must not be empty")
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default)
        normalised = value.upper() if allowed[0].isupper() else value.lower()
        if normalised not in allowed:
            raise SettingsError(f"{self.prefix}{name}={value!r}: expected one of {allowed}")
        return normalised

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.text(name, str(default))
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{self.prefix}{name}={value!r} is not a whole number") from None
        _check_range(self.prefix + name, number, minimum, maximum)
        return number

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.text(name, str(default))
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{self.prefix}{name}={value!r} is not a number") from None
        _check_range(self.prefix + name, number, minimum, maximum)
        return number

    def hours(self, name: str, default: timedelta, *, minimum: float = 0.0001) -> timedelta:
        """A duration given in (possibly fractional) hours."""
        hours = self.number(name, default.total_seconds() / 3600, minimum=minimum)
        return timedelta(hours=hours)

    def hours_by_name(self, name: str, default: str) -> dict[str, timedelta]:
        """``"express=24,economy=72"`` -> {"express": 24 h, "economy": 72 h}."""
        text = self.text(name, default, allow_empty=True)
        durations = {}
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            key, separator, value = part.partition("=")
            try:
                hours = float(value)
            except ValueError:
                hours = -1.0
            if not separator or not key.strip() or hours <= 0:
                raise SettingsError(
                    f"{self.prefix}{name}={text!r}: expected name=hours pairs, "
                    "e.g. express=24,economy=72"
                )
            durations[key.strip().lower()] = timedelta(hours=hours)
        return durations

    def optional_text(self, name: str, *, pattern: re.Pattern[str]) -> str | None:
        value = self.optional(name)
        if value is not None and not pattern.fullmatch(value):
            raise SettingsError(f"{self.prefix}{name}={value!r}: expected {pattern.pattern}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name, "true" if default else "false").lower()
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise SettingsError(f"{self.prefix}{name}={value!r}: expected true or false")
        return value in ("true", "1", "yes")

    def optional_number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        if self.optional(name) is None:
            return None
        return self.number(name, 0.0, minimum=minimum, maximum=maximum)


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={value} is above the maximum {maximum}")
