"""Asking a real worker's lookup API and tracking page over HTTP (shared by the integration
tests of the lookup, the page and the returns)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def get_json(
    port: int, path: str, token: str | None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of ``GET path`` (``token``: the bearer token, None for none)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def without_time(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the moment it was written (two workers answer a few ms apart)."""
    return {name: value for name, value in answer.items() if name != "answered_at"}


def words(text: str) -> str:
    """Text as a browser shows it: any run of spaces (no-break ones too) as one space."""
    return " ".join(text.split())


async def until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.5)
