"""The worker's web server listens only where PARCELWATCH_WEB_HOST says (default 127.0.0.1)."""

from __future__ import annotations

import socket
from pathlib import Path

LISTEN = "0A"  # TCP state in /proc/net/tcp*


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (IPv4 and IPv6), from /proc."""
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != LISTEN or int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # /proc prints each 32-bit word in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, packed))
    return found


def test_listening_addresses_reads_proc_net_tcp() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert listening_addresses(sock.getsockname()[1]) == {"127.0.0.1"}


def test_worker_listens_on_loopback_only(deployment, workers) -> None:
    worker = deployment.start_worker(extra_env={"PARCELWATCH_WEB_HOST": "127.0.0.1"})
    workers.append(worker)
    assert listening_addresses(worker.port) == {"127.0.0.1"}  # not 0.0.0.0 nor ::
