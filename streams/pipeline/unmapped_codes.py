"""Carrier codes nobody mapped, logged so a maintainer can add them to the source's table.

Each (source, code) is logged at most once an interval: a carrier resends a parcel's whole
history, so the same unknown code would otherwise fill the log. Only the source and the code are
logged, never the description (it may name the signer or an address) or the tracking number.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from parcelwatch.schemas.types import CarrierSource

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 3600.0
MAX_REMEMBERED = 10_000  # codes come from outside: the memory of them stays bounded
MAX_LOGGED_CODE_CHARS = 64  # scan.v1 carrier_status_code


class UnmappedCodeLog:
    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._max_remembered = max_remembered
        self._logged_at: dict[tuple[CarrierSource, str | None], float] = {}

    def seen(self, source: CarrierSource, code: str | None) -> bool:
        """Log ``code`` of ``source`` unless it was logged less than an interval ago; True if
        it was logged now."""
        now = self._clock()
        code = code[:MAX_LOGGED_CODE_CHARS] if code is not None else None
        key = (source, code)
        last = self._logged_at.get(key)
        if last is not None and now - last < self._interval:
            return False
        if last is None and len(self._logged_at) >= self._max_remembered:
            self._logged_at.clear()  # at worst some codes are logged again sooner
        self._logged_at[key] = now
        if code is None:
            log.warning("unmapped %s event without a code: its words match no entry", source)
        else:
            log.warning("unmapped %s code %r: scans carry it as status unknown", source, code)
        return True
