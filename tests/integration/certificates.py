"""Throw-away TLS material for the secured test broker, made with the ``openssl`` command.

One CA signs a broker certificate (SAN ``localhost`` and ``127.0.0.1``, so clients that check
host names accept it) and a client certificate for mutual TLS. Keys are unencrypted PKCS#8 PEM,
which both Kafka's PEM key stores and Python's ``ssl`` read.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    broker_cert: Path
    broker_key: Path
    client_cert: Path
    client_key: Path
    broker_keystore: Path  # key + certificate chain in one PEM file, as Kafka's keystore


def make_certificates(folder: Path) -> TlsFiles:
    if shutil.which("openssl") is None:
        raise RuntimeError(
            "the `openssl` command is needed for the TLS tests (apt-get install openssl)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = folder / "ca.pem", folder / "ca.key"
    _new_key(ca_key)
    _openssl(
        "req", "-x509", "-new", "-key", ca_key, "-out", ca_cert, "-days", "2",
        "-subj", "/CN=parcelwatch test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    broker_cert, broker_key = folder / "broker.pem", folder / "broker.key"
    # clientAuth too: with mutual TLS the broker's own inter-broker client presents this one.
    _signed_certificate(
        broker_cert, broker_key, ca_cert, ca_key, "localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    )  # fmt: skip
    client_cert, client_key = folder / "client.pem", folder / "client.key"
    _signed_certificate(
        client_cert, client_key, ca_cert, ca_key, "parcelwatch-client",
        "extendedKeyUsage=clientAuth\n",
    )  # fmt: skip
    keystore = folder / "broker-keystore.pem"
    keystore.write_text(broker_key.read_text() + broker_cert.read_text() + ca_cert.read_text())
    return TlsFiles(ca_cert, broker_cert, broker_key, client_cert, client_key, keystore)


def _new_key(path: Path) -> None:
    # EC P-256: generated in milliseconds, unlike RSA; Java 17 and Python's ssl both speak it.
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _signed_certificate(
    cert: Path, key: Path, ca_cert: Path, ca_key: Path, common_name: str, extensions: str
) -> None:
    _new_key(key)
    request = cert.with_suffix(".csr")
    _openssl("req", "-new", "-key", key, "-out", request, "-subj", f"/CN={common_name}")
    extfile = cert.with_suffix(".ext")
    extfile.write_text(extensions)
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-sha256", "-extfile", extfile,
    )  # fmt: skip


def _openssl(*args: str | Path) -> None:
    result = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")
