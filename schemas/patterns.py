"""String patterns shared by the Python decoder and the JSON Schema files (kept equal by a test)."""

from __future__ import annotations

import re

TRACKING_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CARRIER = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SERVICE_LEVEL = r"^[a-z0-9][a-z0-9_-]{0,31}$"
COUNTRY = r"^[A-Z]{2}$"
LOCALE = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$"
TIMEZONE = r"^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$"
BASE64 = r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"  # carrier-raw bytes
SHA256_HEX = r"^[0-9a-f]{64}$"  # dead letters: digests of the original payload and key
# Money is exact: a decimal string (never a JSON number, which consumers may read as a float).
AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
CURRENCY = r"^[A-Z]{3}$"  # ISO 4217


def compile_full(pattern: str) -> re.Pattern[str]:
    """Compile a ``^...$`` pattern for fullmatch (Python's ``$`` matches before a final newline)."""
    return re.compile(pattern.removeprefix("^").removesuffix("$"))
