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

import orjson

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.order_state import (
    UnsupportedStateVersion,
    order_key,
    order_state_from_json,
    return_key,
)
from parcelwatch.schemas.patterns import LOCALE, TRACKING_NUMBER, compile_full
from parcelwatch.schemas.retired import is_retired
from parcelwatch.schemas.state import ShipmentState, state_from_json
from parcelwatch.streams.core.answers import AnswerTemplates, build_answer, order_id_of, with_return
from parcelwatch.streams.core.local_time import customer_zone
from parcelwatch.streams.core.return_answers import build_return_answer
from parcelwatch.streams.core.returns import ReturnPolicy, return_state_from_json

log = logging.getLogger(__name__)

_TRACKING_NUMBER = compile_full(TRACKING_NUMBER)
MAX_ORDER_ID_CHARS = 200  # the contracts' order-id bound (order.v1: 1..200 characters)
MAX_LOCALE_CHARS = 35  # the contracts' locale bound
_LOCALE = compile_full(LOCALE)
_BEARER = "bearer "
Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return status, {"error": code, "message": message}, headers or {}


NOT_FOUND = error(404, "not_found", "Nothing is known under this id.")
# A settled shipment removed after its retention (PARCELWATCH_RETENTION_DAYS): known, not kept.
RETIRED = error(
    410, "retired", "This shipment settled long ago; its tracking history is no longer kept."
)
# An order whose rows were removed after its retention: known, not kept.
ORDER_RETIRED = error(
    410, "retired", "This order settled long ago; its details are no longer kept."
)
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

    def own_authorization(self) -> str | None:
        """The header a worker asks another worker's ``/v1`` with on its own behalf (the tracking
        page asks the order's owner for the return): the first token; None when the API is off."""
        return f"Bearer {self.tokens[0]}" if self.tokens else None

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
    """Answers from the local table partitions (``read``: a table key -> its stored value, or
    None when this worker holds no such key)."""

    read: Callable[[str], Any]
    templates: AnswerTemplates
    clock: Callable[[], datetime]
    return_policy: ReturnPolicy = field(default_factory=ReturnPolicy)

    def shipment(self, tracking_number: str) -> Reply:
        """A shipment whose order's return is held here too (or that has none)."""
        stored = self._read(tracking_number)
        if stored is not None and is_retired(stored):
            return RETIRED
        state = self._decoded(stored)
        if state is None:
            return NOT_FOUND
        returns = self.return_answer(order_id_of(state), customer_locale(state))
        return 200, self.shipment_answer(state, returns), {}

    def shipment_view(
        self, state: ShipmentState, returns: dict[str, Any] | None
    ) -> tuple[dict[str, Any], tzinfo]:
        """The answer with the order's return (encoded, from wherever it is held) and the
        customer's clock it was written on, for the tracking page, which shows its times on the
        same clock."""
        zone = customer_zone(state)
        answer = to_jsonable(build_answer(state, self.clock(), self.templates, zone))
        return with_return(answer, returns), zone

    def retired(self, key: str) -> bool:
        """Whether the row under ``key`` (a tracking number, ``~order~`` or ``~return~`` key)
        was removed after its retention and its marker stands."""
        stored = self._read(key)
        return stored is not None and is_retired(stored)

    def order_retired(self, order_id: str) -> bool:
        """Whether the order's rows were removed (both carry the marker; either tells)."""
        return self.retired(order_key(order_id)) or self.retired(return_key(order_id))

    def shipment_state(self, tracking_number: str) -> ShipmentState | None:
        return self._decoded(self._read(tracking_number))

    @staticmethod
    def _decoded(stored: dict[str, Any] | None) -> ShipmentState | None:
        if stored is None or is_retired(stored):
            return None
        try:
            return state_from_json(stored)
        except (UnsupportedStateVersion, KeyError, TypeError, ValueError) as problem:
            # A state this build cannot read: said without the id or the value.
            log.warning(
                "lookup: a stored shipment state is unreadable (%s)", type(problem).__name__
            )
            return None

    def shipment_answer(
        self, state: ShipmentState, returns: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The encoded answer, with the order's return (encoded, from wherever it is held)."""
        return with_return(to_jsonable(build_answer(state, self.clock(), self.templates)), returns)

    def return_answer(self, order_id: str | None, locale: str | None) -> dict[str, Any] | None:
        """The order's return as held here (encoded ``ReturnAnswer`` in ``locale``), or None: no
        order id, no return, or one this build cannot read."""
        if order_id is None:
            return None
        stored = self.read(return_key(order_id))
        if stored is None or (isinstance(stored, dict) and is_retired(stored)):
            return None
        try:
            state = return_state_from_json(stored)
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as problem:
            log.warning("lookup: a stored return is unreadable (%s)", type(problem).__name__)
            return None
        answer = build_return_answer(
            state, self.clock(), self.templates, self.return_policy, locale
        )
        return to_jsonable(answer)

    def return_reply(self, order_id: str, locale: str | None) -> Reply:
        """What ``GET /v1/orders/{order_id}/return`` answers: ``returns`` null when none."""
        if self.order_retired(order_id):
            return ORDER_RETIRED
        return 200, {"order_id": order_id, "returns": self.return_answer(order_id, locale)}, {}

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


def order_reply(
    order_id: str,
    answers: list[dict[str, Any]],
    unavailable: list[str],
    returns: dict[str, Any] | None = None,
) -> Reply:
    """An order's answer: its shipments' answers, the order's return (null when none), and the
    tracking numbers whose owner could not answer now (the caller may ask
    ``/v1/shipments/{tracking_number}`` again)."""
    body = {"order_id": order_id, "shipments": answers, "returns": returns}
    return 200, {**body, "unavailable": unavailable}, {}


def locale_hint(value: str | None) -> str | None:
    """A ``locale`` query parameter if it could be a BCP 47 tag, else None (the fallback)."""
    if value and len(value) <= MAX_LOCALE_CHARS and _LOCALE.fullmatch(value):
        return value
    return None


def answer_locale(answers: list[dict[str, Any]]) -> str | None:
    """The customer's locale as the order's shipments give it (the first that names one)."""
    return next(
        (a["order"]["customer_locale"] for a in answers if a["order"]["customer_locale"]), None
    )


def customer_locale(state: ShipmentState) -> str | None:
    return state.order.customer.locale if state.order.customer is not None else None
