"""Model registry: versioned skops artifacts that are checksummed and type-checked on load."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from parcelwatch.models.registry import (
    TRUSTED_TYPES,
    ModelBundle,
    ModelRegistry,
    ModelRegistryError,
)

T0 = datetime(2026, 11, 26, 3, 45, tzinfo=UTC)
FEATURES = ["f0", "f1", "f2", "carrier", "service"]
CATEGORICAL = np.array([False, False, False, True, True])  # like parcelwatch.models.train


class Payload:
    """A harmless custom class: the registry must still refuse to instantiate it."""

    def __init__(self) -> None:
        self.value = 42


@pytest.fixture(scope="module", autouse=True)
def _single_thread() -> Iterator[None]:
    """HistGradientBoosting spins OpenMP threads; on a busy CI box that costs seconds."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = 300
    x = np.column_stack(
        [rng.normal(size=(n, 3)), rng.integers(0, 5, n), rng.integers(0, 3, n)]
    ).astype(float)
    x[rng.random(n) < 0.1, 0] = np.nan
    x[rng.random(n) < 0.1, 3] = np.nan
    y_late = (x[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    y_delay = 10 * np.abs(x[:, 2]) + x[:, 4] + rng.normal(size=n)
    return x, y_late, y_delay


@pytest.fixture(scope="module")
def fitted(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[Any, dict[str, Any]]:
    """Tiny versions of the estimators parcelwatch.models.train fits (same types, same options)."""
    x, y_late, y_delay = data
    small = {"max_iter": 5, "max_leaf_nodes": 4, "categorical_features": CATEGORICAL}
    classifier = CalibratedClassifierCV(
        HistGradientBoostingClassifier(random_state=0, **small), method="sigmoid", cv=2
    ).fit(x, y_late)
    quantiles = {
        name: HistGradientBoostingRegressor(
            loss="quantile", quantile=q, random_state=0, **small
        ).fit(x, y_delay)
        for name, q in {"p10": 0.1, "p50": 0.5, "p90": 0.9}.items()
    }
    return classifier, quantiles


def caller_metadata() -> dict[str, Any]:
    return {
        "training_data_fingerprint": "sha256:" + "ab" * 32,
        "feature_names": FEATURES,
        "metrics": {"auc": np.float64(0.81), "pinball_p50": 1.25},
    }


Save = Callable[[ModelRegistry, datetime], str]


@pytest.fixture(scope="module")
def save(fitted: tuple[Any, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Save:
    """``save(registry, created_at)``: a real ``registry.save`` of the fitted models.

    Each distinct ``created_at`` is saved once into a module template registry and then copied,
    so tests stay fast while every artifact on disk is one the registry really wrote.
    """
    template = ModelRegistry(tmp_path_factory.mktemp("template"))
    saved: dict[datetime, str] = {}
    classifier, quantiles = fitted

    def _save(registry: ModelRegistry, created_at: datetime) -> str:
        if created_at not in saved:
            saved[created_at] = template.save(
                classifier=classifier,
                quantile_models=quantiles,
                metadata=caller_metadata(),
                created_at=created_at,
            )
        version = saved[created_at]
        shutil.copytree(template.root / version, registry.root / version)
        return version

    return _save


def rewrite_metadata(registry: ModelRegistry, version: str, **changes: Any) -> None:
    path = registry.root / version / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_round_trip_predicts_identically(tmp_path: Path, fitted, data) -> None:
    x = data[0]
    registry = ModelRegistry(tmp_path)
    classifier, quantiles = fitted
    version = registry.save(
        classifier=classifier,
        quantile_models=quantiles,
        metadata=caller_metadata(),
        created_at=T0,
    )

    bundle = registry.load(version)

    assert isinstance(bundle, ModelBundle)
    assert bundle.version == version
    np.testing.assert_array_equal(bundle.classifier.predict_proba(x), classifier.predict_proba(x))
    assert sorted(bundle.quantile_models) == ["p10", "p50", "p90"]
    for name, model in quantiles.items():
        np.testing.assert_array_equal(bundle.quantile_models[name].predict(x), model.predict(x))
    assert sorted(p.name for p in (tmp_path / version).iterdir()) == [
        "metadata.json",
        "model.skops",
    ]


def test_metadata_holds_caller_and_registry_fields(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    artifact = (tmp_path / version / "model.skops").read_bytes()

    meta = registry.metadata(version)

    assert meta["version"] == version
    assert meta["created_at"] == "2026-11-26T03:45:00Z"
    assert meta["format"] == "skops"
    assert len(meta["artifact_sha256"]) == 64
    assert version == f"v20261126T034500Z-{meta['artifact_sha256'][:8]}"
    assert meta["artifact_sha256"] == hashlib.sha256(artifact).hexdigest()
    assert set(meta["library_versions"]) == {"python", "numpy", "scikit-learn", "skops"}
    assert meta["training_data_fingerprint"] == "sha256:" + "ab" * 32
    assert meta["feature_names"] == FEATURES
    assert meta["metrics"] == {"auc": 0.81, "pinball_p50": 1.25}
    assert registry.load(version).metadata == meta


def test_versions_are_sorted_and_unique(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    later = save(registry, T0 + timedelta(hours=1))
    earlier = save(registry, T0)
    (tmp_path / ".tmp-leftover").mkdir()  # a crashed save must not show up as a version

    assert later != earlier
    assert registry.versions() == [earlier, later]
    assert registry.load().version == later  # nothing promoted: newest


def test_flipped_byte_is_a_checksum_mismatch(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    path = tmp_path / version / "model.skops"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))

    with pytest.raises(ModelRegistryError, match="checksum mismatch"):
        registry.load(version)
    with pytest.raises(ModelRegistryError, match="checksum mismatch"):
        registry.promote(version)
    assert registry.promoted() is None


def test_untrusted_type_is_refused_even_with_a_valid_checksum(
    tmp_path: Path, fitted, save: Save
) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    classifier, quantiles = fitted
    evil = sio.dumps({"classifier": classifier, "quantiles": quantiles, "extra": Payload()})
    (tmp_path / version / "model.skops").write_bytes(evil)
    rewrite_metadata(registry, version, artifact_sha256=hashlib.sha256(evil).hexdigest())

    with pytest.raises(ModelRegistryError, match=r"untrusted types.*Payload"):
        registry.load(version)


def test_save_refuses_models_that_load_would_refuse(tmp_path: Path, fitted) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelRegistryError, match="Payload"):
        registry.save(
            classifier=fitted[0],
            quantile_models={"p50": Payload()},
            metadata=caller_metadata(),
            created_at=T0,
        )
    assert registry.versions() == []
    assert list(tmp_path.iterdir()) == []  # the temp dir was never created or was cleaned


def test_trusted_types_are_exactly_what_these_estimators_need(fitted) -> None:
    classifier, quantiles = fitted
    found = sio.get_untrusted_types(data=sio.dumps({"c": classifier, "q": quantiles}))
    assert sorted(found) == sorted(TRUSTED_TYPES)


def test_promote_and_load_default(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    assert registry.promoted() is None
    old = save(registry, T0)
    new = save(registry, T0 + timedelta(hours=1))

    promoted_at = T0 + timedelta(days=2)
    announcement = registry.promote(old, promoted_at=promoted_at)

    assert json.loads((tmp_path / "PROMOTED").read_text()) == {
        "schema_version": 1,
        "model": "delay-risk",
        "version": old,
        "artifact_sha256": registry.metadata(old)["artifact_sha256"],
        "promoted_at": "2026-11-28T03:45:00.000000Z",
    }  # unsigned: this registry has no signing key
    assert announcement == registry.promoted_update()
    assert announcement.promoted_at == promoted_at
    assert registry.promoted() == old
    assert registry.load().version == old  # promoted wins over newest
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    registry.promote(new)
    assert registry.promoted() == new


def test_promote_unknown_version_raises(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    save(registry, T0)
    with pytest.raises(ModelRegistryError, match="unknown version"):
        registry.promote("v20990101T000000Z-deadbeef")
    with pytest.raises(ModelRegistryError, match="unknown version"):
        registry.promote("../../etc")
    assert registry.promoted() is None


def test_missing_metadata_is_a_clear_error(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    (tmp_path / version / "metadata.json").unlink()

    with pytest.raises(ModelRegistryError, match=r"incomplete: missing .*metadata\.json"):
        registry.load(version)


def test_missing_artifact_is_a_clear_error(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    (tmp_path / version / "model.skops").unlink()

    with pytest.raises(ModelRegistryError, match=r"incomplete: missing .*model\.skops"):
        registry.load(version)


def test_empty_registry_has_nothing_to_load(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "absent")
    assert registry.versions() == []
    with pytest.raises(ModelRegistryError, match="no model versions"):
        registry.load()


def test_reserved_metadata_keys_and_naive_times_are_rejected(tmp_path: Path, fitted) -> None:
    registry = ModelRegistry(tmp_path)
    classifier, quantiles = fitted
    with pytest.raises(ValueError, match="version"):
        registry.save(
            classifier=classifier,
            quantile_models=quantiles,
            metadata={"version": "mine"},
            created_at=T0,
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        registry.save(
            classifier=classifier,
            quantile_models=quantiles,
            metadata={},
            created_at=T0.replace(tzinfo=None),
        )
    assert registry.versions() == []


def test_promoted_pointer_pins_the_artifact(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    promoted = save(registry, T0)
    other = save(registry, T0 + timedelta(hours=1))
    registry.promote(promoted)
    # Swap in another (valid, trusted) artifact and make its metadata agree with it.
    swapped = (tmp_path / other / "model.skops").read_bytes()
    (tmp_path / promoted / "model.skops").write_bytes(swapped)
    rewrite_metadata(registry, promoted, artifact_sha256=hashlib.sha256(swapped).hexdigest())

    with pytest.raises(ModelRegistryError, match=r"checksum mismatch with .*PROMOTED"):
        registry.load()


def test_scikit_learn_version_drift_warns(tmp_path: Path, save: Save) -> None:
    registry = ModelRegistry(tmp_path)
    version = save(registry, T0)
    meta = registry.metadata(version)
    rewrite_metadata(
        registry, version, library_versions={**meta["library_versions"], "scikit-learn": "0.0"}
    )

    with pytest.warns(RuntimeWarning, match=r"scikit-learn 0\.0"):
        registry.load(version)


# -- signatures (PARCELWATCH_MODEL_SIGNING_KEY) ------------------------------------------------

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def signed_save(registry: ModelRegistry, fitted, created_at: datetime = T0) -> str:
    classifier, quantiles = fitted
    return registry.save(
        classifier=classifier,
        quantile_models=quantiles,
        metadata=caller_metadata(),
        created_at=created_at,
    )


def test_signed_versions_load_with_the_key_and_without_one(tmp_path: Path, fitted) -> None:
    version = signed_save(ModelRegistry(tmp_path, signing_key=KEY), fitted)

    assert registry_metadata_signature(tmp_path, version).startswith("hmac-sha256:")
    assert ModelRegistry(tmp_path, signing_key=KEY).load(version).version == version
    assert ModelRegistry(tmp_path).load(version).version == version  # integrity-only readers
    with pytest.raises(ModelRegistryError, match="not signed with this deployment's"):
        ModelRegistry(tmp_path, signing_key=OTHER_KEY).load(version)


def registry_metadata_signature(root: Path, version: str) -> str:
    return json.loads((root / version / "metadata.json").read_text())["signature"]


def test_a_version_dropped_in_without_the_key_is_refused(tmp_path: Path, save: Save) -> None:
    # Artifact and metadata agree (checksum fine), but nobody with the key wrote them.
    version = save(ModelRegistry(tmp_path), T0)
    registry = ModelRegistry(tmp_path, signing_key=KEY)

    with pytest.raises(ModelRegistryError, match="metadata is not signed"):
        registry.load(version)
    with pytest.raises(ModelRegistryError, match="metadata is not signed"):
        registry.load()  # the newest version is no exception
    with pytest.raises(ModelRegistryError, match="metadata is not signed"):
        registry.promote(version)  # promote never vouches for an unsigned version
    assert registry.promoted() is None


def test_altered_signed_metadata_is_refused(tmp_path: Path, fitted) -> None:
    registry = ModelRegistry(tmp_path, signing_key=KEY)
    version = signed_save(registry, fitted)
    rewrite_metadata(registry, version, alert_threshold=0.01)

    with pytest.raises(ModelRegistryError, match="metadata is not signed"):
        registry.load(version)


def test_a_swapped_artifact_with_matching_checksum_is_refused(tmp_path: Path, fitted) -> None:
    registry = ModelRegistry(tmp_path, signing_key=KEY)
    version = signed_save(registry, fitted)
    other = sio.dumps({"classifier": fitted[0], "quantiles": {"p50": fitted[1]["p50"]}})
    (tmp_path / version / "model.skops").write_bytes(other)
    rewrite_metadata(registry, version, artifact_sha256=hashlib.sha256(other).hexdigest())

    with pytest.raises(ModelRegistryError, match="metadata is not signed"):
        registry.load(version)


def test_promote_signs_the_announcement_and_load_checks_it(tmp_path: Path, fitted) -> None:
    from parcelwatch.models.signing import update_is_authentic

    registry = ModelRegistry(tmp_path, signing_key=KEY)
    version = signed_save(registry, fitted)
    announcement = registry.promote(version)

    assert announcement.signature is not None
    assert update_is_authentic(KEY, announcement)
    assert registry.promoted_update() == announcement
    assert registry.load().version == version

    # Someone without the key rewrites PROMOTED (here: the same content, unsigned).
    ModelRegistry(tmp_path).promote(version)
    with pytest.raises(ModelRegistryError, match="PROMOTED is not signed"):
        registry.load()


def test_promoted_at_always_moves_forward(tmp_path: Path, save: Save) -> None:
    # Workers ignore an announcement that is not newer than theirs, so a promoter whose clock is
    # behind the previous promoter's must still produce a newer one.
    registry = ModelRegistry(tmp_path)
    old, new = save(registry, T0), save(registry, T0 + timedelta(hours=1))
    first = registry.promote(old, promoted_at=T0 + timedelta(days=2))
    second = registry.promote(new, promoted_at=T0 + timedelta(days=1))

    assert second.promoted_at == first.promoted_at + timedelta(microseconds=1)
    assert registry.promoted() == new


def test_the_signing_key_is_not_in_the_registry_repr(tmp_path: Path) -> None:
    assert "kkkk" not in repr(ModelRegistry(tmp_path, signing_key=KEY))
