"""Model promotions are authenticated: HMAC-SHA256 over a canonical announcement."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.models.signing import MIN_KEY_BYTES, sign, sign_update, update_is_authentic
from parcelwatch.schemas.model_update import (
    DELAY_RISK_MODEL,
    FEEDBACK_MODEL,
    InvalidModelUpdate,
    ModelUpdate,
    decode_model_update,
    encode_model_update,
    signing_input,
)
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.model_holder import ModelHolder, Refusal, UpdateRefused, admit
from parcelwatch.streams.runtime.settings import Settings, SettingsError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
T0 = datetime(2026, 11, 28, 3, 45, tzinfo=UTC)
UPDATE = ModelUpdate("v20261126T042304Z-4e6e0951", "4e6e0951" * 8, T0)


def test_signing_input_is_the_documented_canonical_form() -> None:
    # The JSON Schema's description of `signature` spells out exactly these bytes.
    plus_one_hour = timezone(timedelta(hours=1))
    same_instant_elsewhere = replace(UPDATE, promoted_at=T0.astimezone(plus_one_hour))
    assert signing_input(UPDATE) == (
        b"parcelwatch.model-update.v1\n"
        b"v20261126T042304Z-4e6e0951\n" + b"4e6e0951" * 8 + b"\n"
        b"2026-11-28T03:45:00.000000Z"
    )
    assert signing_input(same_instant_elsewhere) == signing_input(UPDATE)


def test_another_models_name_is_a_line_of_its_signing_input() -> None:
    feedback = replace(UPDATE, model=FEEDBACK_MODEL)
    assert signing_input(feedback) == (
        b"parcelwatch.model-update.v1\n"
        b"feedback\n"
        b"v20261126T042304Z-4e6e0951\n" + b"4e6e0951" * 8 + b"\n"
        b"2026-11-28T03:45:00.000000Z"
    )


def test_a_delay_risk_signature_cannot_be_replayed_for_another_model_nor_back() -> None:
    delay_risk = sign_update(KEY, UPDATE)
    assert not update_is_authentic(KEY, replace(delay_risk, model=FEEDBACK_MODEL))
    feedback = sign_update(KEY, replace(UPDATE, model=FEEDBACK_MODEL))
    assert update_is_authentic(KEY, feedback)
    assert not update_is_authentic(KEY, replace(feedback, model=DELAY_RISK_MODEL))


def test_forcing_is_the_last_line_of_the_signing_input_and_cannot_be_added_later() -> None:
    forced = replace(UPDATE, forced=True)
    assert signing_input(forced) == signing_input(UPDATE) + b"\nforced"
    assert not update_is_authentic(KEY, replace(sign_update(KEY, UPDATE), forced=True))
    signed = sign_update(KEY, forced)
    assert update_is_authentic(KEY, decode_model_update(encode_model_update(signed)))
    assert b'"forced":true' in encode_model_update(signed)
    assert b"forced" not in encode_model_update(UPDATE)  # written only when true


def test_forced_must_be_a_boolean() -> None:
    document = encode_model_update(UPDATE)[:-1] + b',"forced":"yes"}'
    with pytest.raises(InvalidModelUpdate, match="forced is not a boolean"):
        decode_model_update(document)


def test_an_announcement_without_a_model_is_for_the_delay_risk_model() -> None:
    legacy = (
        b'{"version":"v20261126T042304Z-4e6e0951","artifact_sha256":"' + b"4e6e0951" * 8 + b'",'
        b'"promoted_at":"2026-11-28T03:45:00.000000Z"}'
    )
    assert decode_model_update(legacy) == UPDATE
    assert decode_model_update(legacy).model == DELAY_RISK_MODEL


def test_a_signed_announcement_verifies_after_encoding_and_decoding() -> None:
    signed = sign_update(KEY, UPDATE)
    decoded = decode_model_update(encode_model_update(signed))
    assert decoded == signed
    assert update_is_authentic(KEY, decoded)


def test_wrong_key_tampered_fields_and_missing_signature_fail() -> None:
    signed = sign_update(KEY, UPDATE)
    assert not update_is_authentic(OTHER_KEY, signed)
    assert not update_is_authentic(KEY, replace(signed, version="v20990101T000000Z-deadbeef"))
    assert not update_is_authentic(KEY, replace(signed, artifact_sha256="0" * 64))
    assert not update_is_authentic(KEY, replace(signed, promoted_at=T0 + timedelta(seconds=1)))
    assert not update_is_authentic(KEY, UPDATE)  # no signature at all


def test_short_keys_cannot_sign() -> None:
    with pytest.raises(ValueError, match=f"{MIN_KEY_BYTES} bytes"):
        sign(b"too short", b"message")


# -- admission at the worker ---------------------------------------------------------------


def test_with_a_key_only_authentic_announcements_are_admitted() -> None:
    signed = sign_update(KEY, UPDATE)
    assert admit(encode_model_update(signed), KEY) == signed
    cases = {
        Refusal.UNSIGNED: encode_model_update(UPDATE),
        Refusal.BAD_SIGNATURE: encode_model_update(sign_update(OTHER_KEY, UPDATE)),
        Refusal.MALFORMED: b'{"version": "v1"}',
    }
    for reason, payload in cases.items():
        with pytest.raises(UpdateRefused) as refused:
            admit(payload, KEY)
        assert refused.value.reason is reason


def test_without_a_key_unsigned_announcements_are_admitted_as_before() -> None:
    legacy = (
        b'{"version": "v20261126T042304Z-4e6e0951", "artifact_sha256": "%s", ' % (b"4e6e0951" * 8)
        + b'"promoted_at": "2026-11-28T03:45:00Z"}'
    )
    assert admit(legacy, None) == UPDATE


def _holder(model_dir: Path | None) -> tuple[ModelHolder, CollectorRegistry]:
    registry = CollectorRegistry()
    return ModelHolder(model_dir, WorkerMetrics(registry)), registry


def _rejected(registry: CollectorRegistry, reason: str) -> float:
    value = registry.get_sample_value(
        "parcelwatch_model_updates_rejected_total", {"reason": reason}
    )
    return value or 0.0


async def test_refusals_are_counted_and_logged_without_the_announcement(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder, registry = _holder(tmp_path)
    forged = replace(UPDATE, version="v20991231T235959Z-0badc0de")
    with caplog.at_level(logging.INFO, logger="parcelwatch.streams.runtime.model_holder"):
        await holder.receive(encode_model_update(forged), 7, KEY)
        await holder.receive(encode_model_update(sign_update(OTHER_KEY, forged)), 8, KEY)
        await holder.receive(b"\x00not json", 9, KEY)

    assert _rejected(registry, "unsigned") == 1
    assert _rejected(registry, "bad_signature") == 1
    assert _rejected(registry, "malformed") == 1
    assert holder.current() is None
    logged = caplog.text
    assert "offset 7" in logged and "unsigned" in logged
    assert forged.version not in logged and forged.artifact_sha256 not in logged


async def test_an_unknown_version_is_refused_without_a_key(tmp_path: Path) -> None:
    holder, registry = _holder(tmp_path)
    await holder.receive(encode_model_update(UPDATE), 0, None)
    assert _rejected(registry, "not_loadable") == 1
    assert holder.current() is None


async def test_an_announcement_older_than_the_one_in_force_is_stale(tmp_path: Path) -> None:
    # Replaying an old signed announcement would roll workers back to an old model: refused.
    holder, registry = _holder(tmp_path)
    holder._in_force_since = T0  # as after loading a PROMOTED file of T0 at start-up
    older = sign_update(KEY, replace(UPDATE, promoted_at=T0 - timedelta(days=1)))
    await holder.receive(encode_model_update(older), 3, KEY)
    assert _rejected(registry, "stale") == 1


async def test_a_worker_without_model_dir_ignores_announcements(
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder, registry = _holder(None)
    with caplog.at_level(logging.WARNING, logger="parcelwatch.streams.runtime.model_holder"):
        await holder.receive(encode_model_update(UPDATE), 0, None)
    assert "no model directory" in caplog.text
    assert UPDATE.version not in caplog.text
    assert all(_rejected(registry, reason.value) == 0 for reason in Refusal)  # ignored, not refused


# -- settings ------------------------------------------------------------------------------


def test_signing_key_setting() -> None:
    key = "s3cret-" * 6
    settings = Settings.from_env({"PARCELWATCH_MODEL_SIGNING_KEY": key})
    assert settings.model_signing_key == key.encode()
    assert key not in repr(settings)
    assert Settings.from_env({}).model_signing_key is None


def test_a_short_signing_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError, match="at least 32 bytes, got 11") as error:
        Settings.from_env({"PARCELWATCH_MODEL_SIGNING_KEY": "hunter2-abc"})
    assert "hunter2" not in str(error.value)
