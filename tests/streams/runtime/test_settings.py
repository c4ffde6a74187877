from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from parcelwatch.streams.runtime.settings import Settings, SettingsError


def test_defaults_without_environment():
    settings = Settings.from_env({})
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert settings.topics.carrier_scans == "carrier-scans"
    assert settings.security.protocol == "PLAINTEXT"


def test_environment_overrides_and_prefix():
    settings = Settings.from_env(
        {
            "PARCELWATCH_KAFKA_BROKER": "kafka://k1:9092,kafka://k2:9092",
            "PARCELWATCH_TOPIC_PREFIX": "eu.",
            "PARCELWATCH_PARTITIONS": "12",
            "PARCELWATCH_DATA_DIR": "/var/lib/pw",
            "PARCELWATCH_WEB_PORT": "8080",
            "PARCELWATCH_LOG_LEVEL": "WARNING",
        }
    )
    assert settings.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.topics.all == (
        "eu.carrier-scans", "eu.orders", "eu.customer-feedback", "eu.returns",
        "eu.shipment-checks", "eu.order-shipments", "eu.shipment-feedback", "eu.return-parcels",
        "eu.return-scans", "eu.shipment-alerts", "eu.customer-notifications", "eu.dead-letter",
        "eu.feedback-flagged", "eu.feedback-tallies", "eu.pain-points", "eu.pain-point-spikes",
        "eu.model-outcomes", "eu.model-monitoring", "eu.support-escalations", "eu.model-updates",
        "eu.carrier-raw",
    )  # fmt: skip
    assert settings.partitions == 12
    assert settings.data_dir == Path("/var/lib/pw")
    assert settings.web_port == 8080
    assert settings.log_level == "warning"


def test_sasl_ssl_settings():
    settings = Settings.from_env(
        {
            "PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "PARCELWATCH_KAFKA_SASL_MECHANISM": "scram-sha-512",
            "PARCELWATCH_KAFKA_SASL_USERNAME": "svc",
            "PARCELWATCH_KAFKA_SASL_PASSWORD": "s3cret",
        }
    )
    assert settings.security.uses_sasl and settings.security.uses_ssl
    assert settings.security.sasl_mechanism == "SCRAM-SHA-512"
    assert "s3cret" not in repr(settings)  # passwords never reach logs


@pytest.mark.parametrize(
    "env",
    [
        {"PARCELWATCH_PARTITIONS": "zero"},
        {"PARCELWATCH_PARTITIONS": "0"},
        {"PARCELWATCH_WEB_PORT": "70000"},
        {"PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "TLS"},
        {"PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},  # no credentials
        {"PARCELWATCH_KAFKA_BROKER": "  "},
        {"PARCELWATCH_MAX_CLOCK_SKEW_HOURS": "-1"},
    ],
)
def test_bad_values_are_clear_errors(env):
    with pytest.raises(SettingsError, match="PARCELWATCH_"):
        Settings.from_env(env)


def test_security_options_reach_aiokafka():
    from parcelwatch.streams.runtime.kafka_admin import aiokafka_options, faust_credentials

    settings = Settings.from_env(
        {
            "PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "PARCELWATCH_KAFKA_SASL_USERNAME": "svc",
            "PARCELWATCH_KAFKA_SASL_PASSWORD": "pw",
        }
    )
    options = aiokafka_options(settings)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_plain_username"] == "svc"
    assert faust_credentials(settings.security).username == "svc"
    assert faust_credentials(Settings().security) is None


def test_recovery_and_health_settings():
    defaults = Settings.from_env({})
    assert defaults.instance_id is None  # dynamic membership unless a stable name is given
    assert defaults.session_timeout_seconds == 10
    assert defaults.standby_replicas == 1  # Faust's default: one warm copy per table partition
    assert defaults.exit_when_stuck is True
    assert defaults.restore_bulk_seconds == 60
    settings = Settings.from_env(
        {
            "PARCELWATCH_INSTANCE_ID": "parcelwatch-worker-0",
            "PARCELWATCH_SESSION_TIMEOUT_SECONDS": "15",
            "PARCELWATCH_STANDBY_REPLICAS": "0",
            "PARCELWATCH_STUCK_AFTER_SECONDS": "300",
            "PARCELWATCH_RECOVERY_TIMEOUT_SECONDS": "1800",
            "PARCELWATCH_EXIT_WHEN_STUCK": "false",
            "PARCELWATCH_RESTORE_BULK_SECONDS": "0",
        }
    )
    assert settings.instance_id == "parcelwatch-worker-0"
    assert settings.session_timeout_seconds == 15
    assert settings.standby_replicas == 0
    assert settings.stuck_after_seconds == 300
    assert settings.recovery_timeout_seconds == 1800
    assert settings.exit_when_stuck is False
    assert settings.restore_bulk_seconds == 0  # Faust's own restore only


def test_static_membership_is_advised_against_and_a_short_session_said_to_miss_restarts():
    assert Settings().static_membership_advice() is None  # dynamic membership
    short = Settings(instance_id="worker-0").static_membership_advice()
    long = Settings(instance_id="w", session_timeout_seconds=30).static_membership_advice()
    assert short is not None and long is not None
    assert "stall" in long and "rebalances twice" not in long
    assert short.startswith(long) and "rebalances twice" in short


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INSTANCE_ID", "two words"),
        ("SESSION_TIMEOUT_SECONDS", "1"),
        ("STANDBY_REPLICAS", "-1"),
        ("EXIT_WHEN_STUCK", "maybe"),
        ("STUCK_AFTER_SECONDS", "0"),
        ("RESTORE_BULK_SECONDS", "61"),  # inside Faust's 90 s for the step
        ("RESTORE_BULK_SECONDS", "-1"),
    ],
)
def test_recovery_settings_are_validated(name, value):
    with pytest.raises(SettingsError, match=f"PARCELWATCH_{name}"):
        Settings.from_env({f"PARCELWATCH_{name}": value})


def test_rocksdb_memory_is_bounded_by_default():
    options = Settings.from_env({}).rocksdb_options
    assert options["write_buffer_size"] == 8 * 2**20
    assert options["max_write_buffer_number"] == 2
    assert options["block_cache_size"] == 32 * 2**20
    custom = Settings.from_env({"PARCELWATCH_ROCKSDB_BLOCK_CACHE_MB": "256"}).rocksdb_options
    assert custom["block_cache_size"] == 256 * 2**20


def test_pain_point_settings():
    from datetime import timedelta

    from parcelwatch.streams.core.pain_points import SpikePolicy

    defaults = Settings.from_env({})
    assert defaults.pain_point_grace == timedelta(minutes=60)
    assert defaults.pain_point_spikes == SpikePolicy()
    settings = Settings.from_env(
        {
            "PARCELWATCH_PAIN_POINT_GRACE_MINUTES": "0.5",
            "PARCELWATCH_PAIN_POINT_MIN_COUNT": "8",
            "PARCELWATCH_PAIN_POINT_FACTOR": "2.5",
            "PARCELWATCH_PAIN_POINT_INTERVAL_SECONDS": "2",
        }
    )
    assert settings.pain_point_grace == timedelta(seconds=30)
    assert (settings.pain_point_spikes.min_count, settings.pain_point_spikes.factor) == (8, 2.5)
    assert settings.pain_point_interval_seconds == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARCELWATCH_PAIN_POINT_GRACE_MINUTES", "-1"),
        ("PARCELWATCH_PAIN_POINT_MIN_COUNT", "0"),
        ("PARCELWATCH_PAIN_POINT_FACTOR", "0.5"),
        ("PARCELWATCH_PAIN_POINT_FACTOR", "lots"),
    ],
)
def test_bad_pain_point_settings_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_model_monitoring_settings():
    defaults = Settings.from_env({})
    assert defaults.model_monitoring_window_days == 7
    assert defaults.model_monitoring_interval_seconds == 300
    settings = Settings.from_env(
        {
            "PARCELWATCH_MODEL_MONITORING_WINDOW_DAYS": "14",
            "PARCELWATCH_MODEL_MONITORING_INTERVAL_SECONDS": "1.5",
        }
    )
    assert settings.model_monitoring_window_days == 14
    assert settings.model_monitoring_interval_seconds == 1.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARCELWATCH_MODEL_MONITORING_WINDOW_DAYS", "0"),
        ("PARCELWATCH_MODEL_MONITORING_WINDOW_DAYS", "1.5"),
        ("PARCELWATCH_MODEL_MONITORING_INTERVAL_SECONDS", "0"),
    ],
)
def test_bad_model_monitoring_settings_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_refund_delay_is_five_business_days_unless_set():
    assert Settings.from_env({}).return_policy.refund_delay_business_days == 5
    settings = Settings.from_env({"PARCELWATCH_REFUND_DELAY_BUSINESS_DAYS": "3"})
    assert settings.return_policy.refund_delay_business_days == 3
    with pytest.raises(SettingsError):
        Settings.from_env({"PARCELWATCH_REFUND_DELAY_BUSINESS_DAYS": "-1"})


def test_escalation_limits_default_to_72_hours_and_ten_business_days():
    policy = Settings.from_env({}).escalation_policy
    assert policy.lost_after_promise == timedelta(hours=72)
    assert policy.refund_escalation_business_days == 10
    policy = Settings.from_env(
        {
            "PARCELWATCH_LOST_AFTER_PROMISE_HOURS": "24",
            "PARCELWATCH_REFUND_ESCALATION_BUSINESS_DAYS": "6",
        }
    ).escalation_policy
    assert policy.lost_after_promise == timedelta(hours=24)
    assert policy.refund_escalation_business_days == 6


@pytest.mark.parametrize(
    "env",
    [
        {"PARCELWATCH_LOST_AFTER_PROMISE_HOURS": "-1"},
        {"PARCELWATCH_REFUND_ESCALATION_BUSINESS_DAYS": "0"},
        # The second limit must come after the first (the refund_delayed notice and alert).
        {"PARCELWATCH_REFUND_ESCALATION_BUSINESS_DAYS": "5"},
        {"PARCELWATCH_REFUND_DELAY_BUSINESS_DAYS": "12"},
    ],
    ids=["negative hours", "zero days", "equal to the first limit", "before the first limit"],
)
def test_bad_escalation_settings_are_refused(env):
    with pytest.raises(SettingsError, match="PARCELWATCH_"):
        Settings.from_env(env)


def test_api_tokens_are_comma_separated_and_off_by_default():
    assert Settings.from_env({}).api_tokens == ()
    assert Settings.from_env({"PARCELWATCH_API_TOKENS": " "}).api_tokens == ()
    tokens = "first-token-0123456789, second-token-0123456789,"
    settings = Settings.from_env({"PARCELWATCH_API_TOKENS": tokens})
    assert settings.api_tokens == ("first-token-0123456789", "second-token-0123456789")
    assert "first-token" not in repr(settings)


@pytest.mark.parametrize("value", ["tinytoken", "good-token-0123456789,has qqq inside 01234"])
def test_weak_or_unusable_api_tokens_are_refused_without_being_shown(value):
    with pytest.raises(SettingsError, match="PARCELWATCH_API_TOKENS") as refused:
        Settings.from_env({"PARCELWATCH_API_TOKENS": value})
    assert "tinytoken" not in str(refused.value) and "qqq" not in str(refused.value)


def test_the_tracking_page_key_is_off_by_default_and_kept_out_of_repr():
    assert Settings.from_env({}).tracking_page_key is None
    assert Settings.from_env({"PARCELWATCH_TRACKING_PAGE_KEY": "  "}).tracking_page_key is None
    key = "page-key-" + "k" * 40
    settings = Settings.from_env({"PARCELWATCH_TRACKING_PAGE_KEY": key})
    assert settings.tracking_page_key == key.encode()
    assert "page-key" not in repr(settings)


def test_a_short_tracking_page_key_is_refused_without_being_shown():
    with pytest.raises(
        SettingsError, match=r"PARCELWATCH_TRACKING_PAGE_KEY .* 32 bytes"
    ) as refused:
        Settings.from_env({"PARCELWATCH_TRACKING_PAGE_KEY": "short-secret-qqq"})
    assert "qqq" not in str(refused.value)


def test_performance_settings():
    defaults = Settings.from_env({})
    assert (defaults.producer_linger_ms, defaults.model_threads) == (5.0, 1)
    assert (defaults.producer_max_batch_bytes, defaults.fetch_max_wait_ms) == (256 * 1024, 100)
    settings = Settings.from_env(
        {
            "PARCELWATCH_PRODUCER_LINGER_MS": "20",
            "PARCELWATCH_MODEL_THREADS": "4",
            "PARCELWATCH_PRODUCER_MAX_BATCH_BYTES": "65536",
            "PARCELWATCH_FETCH_MAX_WAIT_MS": "500",
        }
    )
    assert (settings.producer_linger_ms, settings.model_threads) == (20.0, 4)
    assert (settings.producer_max_batch_bytes, settings.fetch_max_wait_ms) == (65536, 500)
    for name, value in (
        ("PRODUCER_LINGER_MS", "-1"),
        ("MODEL_THREADS", "0"),
        ("PRODUCER_MAX_BATCH_BYTES", "1000"),
        ("FETCH_MAX_WAIT_MS", "-5"),
    ):
        with pytest.raises(SettingsError, match=f"PARCELWATCH_{name}"):
            Settings.from_env({f"PARCELWATCH_{name}": value})


def test_retention_defaults_to_30_days_and_a_marker_remembered_for_180():
    policy = Settings.from_env({}).retention_policy
    assert (policy.retention, policy.retired_memory) == (timedelta(days=30), timedelta(days=180))
    assert Settings.from_env({}).timer_full_walk_seconds == 3600
    short = Settings.from_env(
        {
            "PARCELWATCH_RETENTION_DAYS": str(2 / 86400),  # tests: seconds
            "PARCELWATCH_RETIRED_MEMORY_DAYS": "7",
            "PARCELWATCH_EXPIRED_AFTER_HOURS": "48",
            "PARCELWATCH_TIMER_FULL_WALK_SECONDS": "0",
        }
    )
    assert round(short.retention_policy.retention.total_seconds()) == 2
    assert short.retention_policy.retired_memory == timedelta(days=7)
    assert short.retention_policy.expired_after == timedelta(hours=48)
    assert short.timer_full_walk_seconds == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARCELWATCH_RETENTION_DAYS", "0"),
        ("PARCELWATCH_RETENTION_DAYS", str(0.5 / 86400)),  # below one second
        ("PARCELWATCH_RETIRED_MEMORY_DAYS", "-1"),
        ("PARCELWATCH_TIMER_FULL_WALK_SECONDS", "-5"),
    ],
)
def test_bad_retention_settings_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_garbage_collector_is_tuned_as_configured():
    import gc

    from parcelwatch.streams.runtime.garbage_collection import tune_garbage_collector

    assert Settings.from_env({}).gc_young_threshold == 200_000
    assert Settings.from_env({"PARCELWATCH_GC_YOUNG_THRESHOLD": "5000"}).gc_young_threshold == 5000
    with pytest.raises(SettingsError, match="PARCELWATCH_GC_YOUNG_THRESHOLD"):
        Settings.from_env({"PARCELWATCH_GC_YOUNG_THRESHOLD": "0"})
    before = gc.get_threshold()
    try:
        tune_garbage_collector(123_456)
        assert gc.get_threshold() == (123_456, *before[1:])
        assert gc.get_freeze_count() > 0  # start-up's objects are out of collection
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_collections_are_paced_every_5_seconds_and_collected_whole_every_10_minutes():
    defaults = Settings.from_env({})
    assert (defaults.gc_freeze_seconds, defaults.gc_full_collection_minutes) == (5.0, 10.0)
    paced = Settings.from_env(
        {"PARCELWATCH_GC_FREEZE_SECONDS": "0", "PARCELWATCH_GC_FULL_COLLECTION_MINUTES": "60"}
    )
    assert (paced.gc_freeze_seconds, paced.gc_full_collection_minutes) == (0.0, 60.0)
    for name, value in (
        ("PARCELWATCH_GC_FREEZE_SECONDS", "-1"),
        ("PARCELWATCH_GC_FULL_COLLECTION_MINUTES", "0"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})


def test_changelog_segments_roll_within_an_hour_or_6_mib_by_default():
    assert Settings.from_env({}).changelog_topic_configs == {
        "segment.bytes": str(6 * 2**20),
        "segment.ms": str(3_600_000),
    }
    custom = Settings.from_env(
        {"PARCELWATCH_CHANGELOG_SEGMENT_MB": "128", "PARCELWATCH_CHANGELOG_SEGMENT_HOURS": "0.5"}
    )
    assert custom.changelog_topic_configs == {
        "segment.bytes": str(128 * 2**20),
        "segment.ms": str(1_800_000),
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [("CHANGELOG_SEGMENT_MB", "0"), ("CHANGELOG_SEGMENT_MB", "4096"),
     ("CHANGELOG_SEGMENT_HOURS", "0"), ("CHANGELOG_SEGMENT_HOURS", "1000")],
)  # fmt: skip
def test_changelog_segment_settings_are_validated(name, value):
    with pytest.raises(SettingsError, match=f"PARCELWATCH_{name}"):
        Settings.from_env({f"PARCELWATCH_{name}": value})


def test_table_values_are_stored_deflated_unless_switched_off():
    assert Settings.from_env({}).store_deflated is True
    assert Settings.from_env({"PARCELWATCH_STORE_DEFLATED": "false"}).store_deflated is False
