"""The lookup API's decisions, apart from the web server: who may ask, which ids are well formed,
and what each request is answered (status, JSON body, headers).

``views.py`` only wires these into Faust's web server and its table routing. Nothing here logs a
token, an id or a body: a refusal is answered with a fixed JSON error, never a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.order_state import (
    UnsupportedStateVersion,
    order_key,
    order_state_from_json,
)
from parcelwatch.schemas.patterns import TRACKING_NUMBER, compile_full
from parcelwatch.schemas.state import state_from_json
from parcelwatch.streams.core.answers import AnswerTemplates, build_answer
from parcelwatch.streams.core.local_time import customer_zone

log = logging.getLogger(__name__)

_TRACKING_NUMBER = compile_full(TRACKING_NUMBER)
MAX_ORDER_ID_CHARS = 200  # the contracts' order-id bound (order.v1: 1..200 characters)
_BEARER = "bearer "
Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return status, {"error": code, "message": message}, headers or {}


NOT_FOUND = error(404, "not_found", "Nothing is known under this id.")
UNAUTHORIZED = error(
    401,
    "unauthorized",
    "A valid bearer token is required (Authorization: Bearer <token>).",
    {"WWW-Authenticate": 'Bearer realm="parcelwatch"'},
)


@dataclass(frozen=True)
class ApiGate:
    """Bearer-token check of every ``/v1`` request. Without tokens the API is off: every ``/v1``
    route answers 404, as if it did not exist (nothing tells a prober that it could be on)."""

    tokens: tuple[str, ...] = field(default=(), repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def authorized(self, authorization: str | None) -> bool:
        """Whether the ``Authorization`` header carries one of the tokens. Every token is compared
        (hmac.compare_digest), so the time taken tells nothing about which one came close."""
        if not authorization or authorization[: len(_BEARER)].lower() != _BEARER:
            return False
        offered = authorization[len(_BEARER) :].strip().encode("utf-8", "replace")
        matched = False
        for token in self.tokens:
            matched |= hmac.compare_digest(offered, token.encode("utf-8"))
        return matched

    def refusal(self, headers: Mapping[str, str]) -> Reply | None:
        """The answer to a request that may not go on, or None when it may."""
        if not self.enabled:
            return NOT_FOUND
        if not self.authorized(headers.get("Authorization")):
            return UNAUTHORIZED
        return None


def tracking_number_problem(tracking_number: str) -> Reply | None:
    if _TRACKING_NUMBER.fullmatch(tracking_number):
        return None
    return error(400, "malformed_id", "Not a tracking number (1-64 letters, digits, . _ -).")


def order_id_problem(order_id: str) -> Reply | None:
    if 0 < len(order_id) <= MAX_ORDER_ID_CHARS and order_id.isprintable():
        return None
    return error(400, "malformed_id", "Not an order id (1-200 printable characters).")


@dataclass(frozen=True)
class Lookups:
    """Answers from the local table partitions (``read``: a table key -> its stored JSON, or
    None when this worker holds no such key)."""

    read: Callable[[str], dict[str, Any] | None]
    templates: AnswerTemplates
    clock: Callable[[], datetime]

    def shipment(self, tracking_number: str) -> Reply:
        answer = self.shipment_answer(tracking_number)
        return (200, answer, {}) if answer is not None else NOT_FOUND

    def shipment_answer(self, tracking_number: str) -> dict[str, Any] | None:
        found = self.shipment_view(tracking_number)
        return found[0] if found is not None else None

    def shipment_view(self, tracking_number: str) -> tuple[dict[str, Any], tzinfo] | None:
        """The answer and the customer's clock it was written on (the tracking page shows its
        times on the same clock), or None for an unknown or unreadable shipment."""
        stored = self._read(tracking_number)
        if stored is None:
            return None
        try:
            state = state_from_json(stored)
        except (UnsupportedStateVersion, KeyError, TypeError, ValueError) as problem:
            # A state this build cannot read: said without the id or the value.
            log.warning(
                "lookup: a stored shipment state is unreadable (%s)", type(problem).__name__
            )
            return None
        zone = customer_zone(state)
        return to_jsonable(build_answer(state, self.clock(), self.templates, zone)), zone

    def order_shipments(self, order_id: str) -> tuple[str, ...] | None:
        """The tracking numbers the order's index links to it, or None for an unknown order."""
        stored = self._read(order_key(order_id))
        if stored is None:
            return None
        try:
            order = order_state_from_json(stored)
        except (UnsupportedStateVersion, KeyError, TypeError, ValueError) as problem:
            log.warning("lookup: a stored order state is unreadable (%s)", type(problem).__name__)
            return None
        return tuple(link.tracking_number for link in order.shipments)

    def _read(self, key: str) -> dict[str, Any] | None:
        value = self.read(key)
        return value if isinstance(value, dict) else None


def order_reply(order_id: str, answers: list[dict[str, Any]], unavailable: list[str]) -> Reply:
    """An order's answer: its shipments' answers, and the tracking numbers whose owner could not
    answer now (the caller may ask ``/v1/shipments/{tracking_number}`` again)."""
    return 200, {"order_id": order_id, "shipments": answers, "unavailable": unavailable}, {}
