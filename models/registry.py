"""Versioned, checksummed, pickle-free store for models (delay-risk, feedback polarity).

A registry holds one kind of model (:class:`ModelKind`: its name on ``model-updates``, the types
its artifact may hold, the keys of its payload). Layout under ``root``::

    root/<version>/model.skops      one skops file, a dict; for delay-risk
                                    {"classifier": ..., "quantiles": {...}}
    root/<version>/metadata.json    caller metadata + version, created_at, artifact_sha256,
                                    library_versions, format
    root/PROMOTED                   the announcement (schemas/model_update.py) of the version
                                    workers should run

Versions look like ``v20261126T034500Z-1a2b3c4d`` (UTC creation second, then the first 8 hex
digits of the artifact sha256), so string order is creation order. A version directory is
built in a hidden temp directory inside ``root`` and renamed into place, so readers never see a
half-written version; ``PROMOTED`` is replaced atomically the same way.

With a signing key (PARCELWATCH_MODEL_SIGNING_KEY), ``save`` signs the metadata, which holds
the artifact's sha256, and ``promote`` signs the announcement; ``load`` then refuses a version
or a PROMOTED file that is unsigned or signed with another key (models/signing.py). Without a
key, integrity is still checked, authenticity is not.

Loading never unpickles anything: the artifact bytes are read once, their sha256 is compared
with ``metadata.json``, every type skops does not trust by default must be in the kind's trusted
types (:data:`TRUSTED_TYPES` for delay-risk), and only then is ``skops.io.load`` called with that
explicit list (:func:`load_verified_skops`, also used for the feedback model shipped in the
package).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io as sio

from parcelwatch.models.signing import (
    METADATA_SIGNATURE_KEY,
    is_valid,
    metadata_signing_input,
    sign,
    sign_update,
    update_is_authentic,
)
from parcelwatch.schemas.model_update import (
    DELAY_RISK_MODEL,
    InvalidModelUpdate,
    ModelUpdate,
    decode_model_update,
    encode_model_update,
)

__all__ = [
    "ARTIFACT_FILE",
    "DELAY_RISK",
    "METADATA_FILE",
    "PROMOTED_FILE",
    "TRUSTED_TYPES",
    "ModelBundle",
    "ModelKind",
    "ModelRegistry",
    "ModelRegistryError",
    "NotPromotable",
    "StoredArtifact",
    "artifact_metadata",
    "load_verified_skops",
    "sha256_hex",
]

ARTIFACT_FILE = "model.skops"
METADATA_FILE = "metadata.json"
PROMOTED_FILE = "PROMOTED"
FORMAT = "skops"

#: Types that skops does not trust by default but that the fitted delay-risk models contain, as
#: reported by ``skops.io.get_untrusted_types`` (scikit-learn 1.9 / skops 0.16) for
#: ``CalibratedClassifierCV(HistGradientBoostingClassifier(categorical_features=mask),
#: method="sigmoid")`` and ``HistGradientBoostingRegressor(loss="quantile",
#: categorical_features=mask)``. The last two come from the categorical preprocessing that
#: HistGradientBoosting fits (``FunctionTransformer(func=partial(check_array, ...))``); skops
#: audits a partial's function and arguments against this same list, so trusting ``partial``
#: does not let a file call anything else. Everything skops would refuse by default and is not
#: listed here is refused. Keep this list minimal: every entry is something loading may build.
TRUSTED_TYPES: tuple[str, ...] = (
    "functools.partial",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
)

#: Metadata keys the registry writes itself; callers may not supply them.
RESERVED_METADATA_KEYS = frozenset(
    {
        "version",
        "created_at",
        "artifact_sha256",
        "library_versions",
        "format",
        METADATA_SIGNATURE_KEY,
    }
)

_VERSION_RE = re.compile(r"^v\d{8}T\d{6}Z-[0-9a-f]{8}$")


@dataclass(frozen=True)
class ModelKind:
    """What one registry stores: the model's name on ``model-updates`` (and in its PROMOTED
    file), the types beyond skops' defaults its artifact may hold, and its payload's keys."""

    name: str
    trusted_types: tuple[str, ...]
    payload_keys: frozenset[str]


DELAY_RISK = ModelKind(DELAY_RISK_MODEL, TRUSTED_TYPES, frozenset({"classifier", "quantiles"}))


class ModelRegistryError(RuntimeError):
    """A version is unknown, incomplete, corrupted or contains types we refuse to load."""


class NotPromotable(ModelRegistryError):
    """``train`` registered the version as not promotable: it lost to its baseline."""


@dataclass(frozen=True)
class StoredArtifact:
    """A verified version of any kind: its payload dict as saved, and its metadata."""

    version: str
    payload: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ModelBundle:
    """What a worker needs to score: the fitted estimators plus their metadata."""

    version: str
    classifier: Any  # fitted, has predict_proba
    quantile_models: dict[str, Any]  # {"p10": reg, "p50": reg, "p90": reg}
    metadata: dict[str, Any]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that define the artifact's on-disk meaning."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def artifact_metadata(
    metadata: dict[str, Any], version: str, sha256: str, **more: Any
) -> dict[str, Any]:
    """A stored artifact's metadata: the caller's, plus what identifies and reads the artifact."""
    return {
        **metadata,
        **more,
        "version": version,
        "artifact_sha256": sha256,
        "library_versions": library_versions(),
        "format": FORMAT,
    }


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"created_at must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    """Let metrics computed with numpy (np.float64, small arrays) be stored as plain JSON."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _fsync_dir(path: Path) -> None:
    """Make a rename/create inside ``path`` durable (best effort on platforms without it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _check_types(data: bytes, where: str, trusted_types: tuple[str, ...]) -> None:
    """Refuse an artifact holding any type that is neither skops-default nor in trusted_types."""
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a corrupt zip/schema surfaces as many exception types
        raise ModelRegistryError(f"{where}: cannot read skops artifact: {exc}") from exc
    refused = sorted(set(untrusted) - set(trusted_types))
    if refused:
        raise ModelRegistryError(
            f"{where}: artifact contains untrusted types {refused}; refusing to load "
            f"(allowed beyond skops defaults: {list(trusted_types)})"
        )


def load_verified_skops(
    data: bytes, expected_sha256: str, trusted_types: tuple[str, ...], where: str
) -> Any:
    """The object in skops ``data``, once its SHA-256 matches and it holds only trusted types.

    The bytes are hashed, type-checked and loaded as they are (no re-read race); nothing is
    unpickled.
    """
    actual = sha256_hex(data)
    if actual != expected_sha256:
        raise ModelRegistryError(
            f"{where}: checksum mismatch (expected {expected_sha256}, artifact is {actual}); "
            "refusing to load"
        )
    _check_types(data, where, trusted_types)
    try:
        return sio.load(io.BytesIO(data), trusted=list(trusted_types))
    except Exception as exc:
        raise ModelRegistryError(f"{where}: skops load failed: {exc}") from exc


@dataclass(frozen=True)
class ModelRegistry:
    """A directory of immutable model versions plus a pointer to the promoted one."""

    root: Path
    signing_key: bytes | None = field(default=None, repr=False)  # a secret: never in a repr
    kind: ModelKind = DELAY_RISK

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # ------------------------------------------------------------------ writing

    def save(
        self,
        *,
        classifier: Any,
        quantile_models: dict[str, Any],
        metadata: dict[str, Any],
        created_at: datetime,
    ) -> str:
        """Store fitted models with metadata as a new immutable version and return its name.

        ``metadata`` is the caller's part (training-data fingerprint, feature list, metrics, ...)
        and must be JSON-serializable (numpy scalars/arrays are converted; NaN is refused).
        ``created_at`` must be timezone-aware. Nothing becomes visible until the version
        directory is complete.
        """
        if not hasattr(classifier, "predict_proba"):
            raise ValueError("classifier must be a fitted estimator with predict_proba")
        if not isinstance(quantile_models, Mapping) or not quantile_models:
            raise ValueError("quantile_models must be a non-empty dict such as {'p50': model}")
        if not all(isinstance(name, str) for name in quantile_models):
            raise ValueError("quantile_models keys must be strings such as 'p10', 'p50', 'p90'")
        return self.save_artifact(
            {"classifier": classifier, "quantiles": dict(quantile_models)},
            metadata=metadata,
            created_at=created_at,
        )

    def save_artifact(
        self, payload: dict[str, Any], *, metadata: dict[str, Any], created_at: datetime
    ) -> str:
        """Store ``payload`` (a dict with exactly the kind's keys) as a new immutable version."""
        if not isinstance(payload, dict) or set(payload) != self.kind.payload_keys:
            raise ValueError(
                f"a {self.kind.name} payload has the keys {sorted(self.kind.payload_keys)}"
            )
        clash = sorted(RESERVED_METADATA_KEYS & set(metadata))
        if clash:
            raise ValueError(f"metadata keys {clash} are written by the registry; remove them")
        created = _rfc3339(created_at)

        artifact = sio.dumps(payload)
        # Refuse now what load() would refuse later, so training fails instead of promotion.
        _check_types(artifact, "save", self.kind.trusted_types)
        sha256 = sha256_hex(artifact)
        stamp = created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        version = f"v{stamp}-{sha256[:8]}"

        full_metadata = artifact_metadata(metadata, version, sha256, created_at=created)
        try:
            metadata_bytes = json.dumps(
                full_metadata,
                default=_json_default,
                allow_nan=False,
                indent=2,
                sort_keys=True,
            ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"metadata is not strict-JSON serializable: {exc}") from exc
        if self.signing_key is not None:
            # Sign what load() will read back: the JSON form (numpy values already converted).
            stored = json.loads(metadata_bytes)
            stored[METADATA_SIGNATURE_KEY] = sign(self.signing_key, metadata_signing_input(stored))
            metadata_bytes = json.dumps(stored, indent=2, sort_keys=True).encode("utf-8")

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{version}-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            _write_file(tmp / ARTIFACT_FILE, artifact)
            _write_file(tmp / METADATA_FILE, metadata_bytes + b"\n")
            _fsync_dir(tmp)
            target = self.root / version
            if target.exists():
                raise ModelRegistryError(f"version {version} already exists in {self.root}")
            try:
                os.rename(tmp, target)  # fails if a concurrent save created it meanwhile
            except OSError as exc:
                raise ModelRegistryError(
                    f"cannot publish version {version} in {self.root}: {exc}"
                ) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        return version

    def promote(
        self, version: str, *, promoted_at: datetime | None = None, force: bool = False
    ) -> ModelUpdate:
        """Verify ``version`` fully (checksum, types, load) and atomically make it the promoted one.

        Returns the announcement (signed when the registry has a key) that is also the content
        of ``root/PROMOTED``. ``promoted_at`` is later than the previous promotion's even if
        clocks disagree, because workers ignore an announcement that is not newer than theirs.

        A version whose metadata says ``"promotable": false`` raises :class:`NotPromotable` with
        the reasons ``train`` recorded, unless ``force``; a forced announcement says so, and
        only then do workers run it.
        """
        stored = self.load_artifact(version)
        forced = stored.metadata.get("promotable") is False
        if forced and not force:
            reasons = stored.metadata.get("not_promotable_reasons") or ["no reason recorded"]
            raise NotPromotable(
                f"version {stored.version} is not promotable: {'; '.join(map(str, reasons))}. "
                "Workers score with its best baseline instead; promote it with --force to run it "
                "anyway"
            )
        moment = promoted_at or datetime.now(UTC)
        _rfc3339(moment)  # refuses a naive time
        with contextlib.suppress(ModelRegistryError):  # an unreadable PROMOTED is being replaced
            previous = self.promoted_update()
            if previous is not None and moment <= previous.promoted_at:
                moment = previous.promoted_at + timedelta(microseconds=1)
        announcement = ModelUpdate(
            stored.version,
            stored.metadata["artifact_sha256"],
            moment,
            model=self.kind.name,
            forced=forced,
        )
        if self.signing_key is not None:
            announcement = sign_update(self.signing_key, announcement)
        data = encode_model_update(announcement) + b"\n"
        tmp = self.root / f".{PROMOTED_FILE}.tmp-{uuid.uuid4().hex}"
        try:
            _write_file(tmp, data)
            os.replace(tmp, self.root / PROMOTED_FILE)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.root)
        return announcement

    # ------------------------------------------------------------------ reading

    def versions(self) -> list[str]:
        """All complete versions, oldest first (ignores temp dirs and stray entries)."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if _VERSION_RE.match(entry.name) and entry.is_dir()
        )

    def promoted(self) -> str | None:
        """The promoted version, or None if nothing has been promoted yet."""
        announcement = self.promoted_update()
        return None if announcement is None else announcement.version

    def promoted_update(self) -> ModelUpdate | None:
        """The announcement in ``root/PROMOTED``, or None if nothing has been promoted yet.

        With a signing key, an unsigned or wrongly signed PROMOTED file is an error.
        """
        path = self.root / PROMOTED_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            announcement = decode_model_update(raw)
        except InvalidModelUpdate as exc:
            raise ModelRegistryError(f"unreadable {path}: {exc}") from exc
        if announcement.model != self.kind.name:
            raise ModelRegistryError(
                f"{path} promotes a {announcement.model} model, not a {self.kind.name} one"
            )
        if self.signing_key is not None and not update_is_authentic(self.signing_key, announcement):
            raise ModelRegistryError(
                f"{path} is not signed with this deployment's model signing key; "
                "run `parcelwatch promote` again with PARCELWATCH_MODEL_SIGNING_KEY set"
            )
        return announcement

    def metadata(self, version: str) -> dict[str, Any]:
        """The stored metadata of ``version`` (does not verify the artifact)."""
        directory = self._version_dir(version)
        path = directory / METADATA_FILE
        if not path.is_file():
            raise ModelRegistryError(f"version {version} is incomplete: missing {path}")
        try:
            meta = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ModelRegistryError(f"version {version}: unreadable {path}: {exc}") from exc
        if not isinstance(meta, dict):
            raise ModelRegistryError(f"version {version}: {path} is not a JSON object")
        if meta.get("version") != version:
            raise ModelRegistryError(
                f"version {version}: {path} claims version {meta.get('version')!r}"
            )
        if meta.get("format") != FORMAT:
            raise ModelRegistryError(
                f"version {version}: unsupported format {meta.get('format')!r}, expected {FORMAT!r}"
            )
        sha = meta.get("artifact_sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ModelRegistryError(f"version {version}: {path} has no valid artifact_sha256")
        return meta

    def load(self, version: str | None = None) -> ModelBundle:
        """Verify and load a delay-risk version: the promoted one if None (else the newest).

        Raises :class:`ModelRegistryError` on an unknown/incomplete version, a checksum
        mismatch, or an artifact containing types outside skops' defaults and TRUSTED_TYPES.
        """
        stored = self.load_artifact(version)
        if not isinstance(stored.payload.get("quantiles"), dict):
            raise ModelRegistryError(
                f"version {stored.version}: artifact is not "
                "{'classifier': ..., 'quantiles': {...}}"
            )
        return ModelBundle(
            version=stored.version,
            classifier=stored.payload["classifier"],
            quantile_models=dict(stored.payload["quantiles"]),
            metadata=stored.metadata,
        )

    def load_artifact(self, version: str | None = None) -> StoredArtifact:
        """Verify and load a version of any kind: the promoted one if None (else the newest)."""
        expected_sha: str | None = None
        if version is None:
            announcement = self.promoted_update()
            if announcement is not None:
                version = announcement.version
                expected_sha = announcement.artifact_sha256
            else:
                available = self.versions()
                if not available:
                    raise ModelRegistryError(f"no model versions in {self.root}")
                version = available[-1]

        meta = self.metadata(version)
        self._check_signature(version, meta)
        path = self.root / version / ARTIFACT_FILE
        if not path.is_file():
            raise ModelRegistryError(f"version {version} is incomplete: missing {path}")
        if expected_sha is not None and meta["artifact_sha256"] != expected_sha:
            raise ModelRegistryError(
                f"version {version}: checksum mismatch with {self.root / PROMOTED_FILE} "
                f"(promoted {expected_sha}, metadata says {meta['artifact_sha256']}); "
                "refusing to load"
            )
        payload = load_verified_skops(
            path.read_bytes(),
            meta["artifact_sha256"],
            self.kind.trusted_types,
            f"version {version}",
        )
        if not isinstance(payload, dict) or set(payload) != self.kind.payload_keys:
            raise ModelRegistryError(
                f"version {version}: artifact is not a {self.kind.name} model "
                f"(a dict with the keys {sorted(self.kind.payload_keys)})"
            )
        saved_with = meta.get("library_versions", {}).get("scikit-learn")
        if saved_with != sklearn.__version__:
            warnings.warn(
                f"model {version} was saved with scikit-learn {saved_with}, "
                f"running {sklearn.__version__}",
                RuntimeWarning,
                stacklevel=2,
            )
        return StoredArtifact(version=version, payload=payload, metadata=meta)

    # ------------------------------------------------------------------ helpers

    def _version_dir(self, version: str) -> Path:
        if not isinstance(version, str) or not _VERSION_RE.match(version):
            raise ModelRegistryError(f"unknown version {version!r}: not a registry version name")
        directory = self.root / version
        if not directory.is_dir():
            known = self.versions()
            raise ModelRegistryError(
                f"unknown version {version!r} in {self.root} "
                f"(known: {', '.join(known[-5:]) if known else 'none'})"
            )
        return directory

    def _check_signature(self, version: str, meta: dict[str, Any]) -> None:
        if self.signing_key is None:
            return
        signature = meta.get(METADATA_SIGNATURE_KEY)
        if not isinstance(signature, str) or not is_valid(
            self.signing_key, metadata_signing_input(meta), signature
        ):
            raise ModelRegistryError(
                f"version {version}: metadata is not signed with this deployment's model "
                "signing key; refusing to load (retrain it with PARCELWATCH_MODEL_SIGNING_KEY set)"
            )
