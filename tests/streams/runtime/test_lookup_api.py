"""The lookup API's decisions: the token gate, id checks and answers from stored states."""

from __future__ import annotations

import hmac

import orjson
import pytest

from parcelwatch.schemas.order_state import (
    LinkedShipment,
    OrderFeedbackState,
    order_key,
    order_state_to_json,
    return_key,
)
from parcelwatch.schemas.retired import RetiredShipment, retired_to_json
from parcelwatch.schemas.return_parcels import ReturnParcelLink
from parcelwatch.schemas.returns import ReturnEventType as T
from parcelwatch.schemas.state import state_to_json
from parcelwatch.schemas.types import Customer
from parcelwatch.streams.core.return_parcels import link_return_parcel
from parcelwatch.streams.core.returns import apply_return_scan, return_state_to_json
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from parcelwatch.streams.runtime.lookup_api import (
    ApiGate,
    Lookups,
    answer_locale,
    locale_hint,
    order_id_problem,
    order_reply,
    tracking_number_problem,
)
from tests.factories import TRACKING, at, order
from tests.streams.core.test_returns import event, parcel_scan, run

GATE = ApiGate(("first-token-0123456789", "second-token-0123456789"))


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("Bearer first-token-0123456789", True),
        ("bearer second-token-0123456789", True),
        ("Bearer  first-token-0123456789 ", True),
        ("Bearer first-token-012345678", False),
        ("Basic first-token-0123456789", False),
        ("first-token-0123456789", False),
        ("Bearer ", False),
        ("Bearer ünïcode", False),
        (None, False),
    ],
)
def test_the_gate_accepts_only_a_configured_bearer_token(header, allowed):
    assert GATE.authorized(header) is allowed


def test_every_token_is_compared_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr("parcelwatch.streams.runtime.lookup_api.hmac.compare_digest", spy)
    assert GATE.authorized("Bearer first-token-0123456789")
    assert len(compared) == 2  # the match was first; the second token was compared all the same


def test_without_tokens_every_request_is_refused_as_absent():
    status, body, _ = ApiGate(()).refusal({"Authorization": "Bearer anything-at-all-xx"})
    assert status == 404 and body["error"] == "not_found"


def test_the_tokens_stay_out_of_the_gates_repr():
    assert "first-token" not in repr(GATE)


@pytest.mark.parametrize("value", ["1Z999", "ABC.def_1-2", "x" * 64])
def test_well_formed_tracking_numbers_pass(value):
    assert tracking_number_problem(value) is None


@pytest.mark.parametrize("value", ["", "-1Z", "a b", "x" * 65, "~order~A-1", "~applied~0"])
def test_malformed_tracking_numbers_and_internal_keys_are_400(value):
    reply = tracking_number_problem(value)
    assert reply is not None and reply[0] == 400


@pytest.mark.parametrize(("value", "ok"), [("A-1001", True), ("", False), ("x" * 201, False)])
def test_order_ids_follow_the_contracts_bounds(value, ok):
    assert (order_id_problem(value) is None) is ok
    assert order_id_problem("bad\nid") is not None


def lookups(store: dict) -> Lookups:
    return Lookups(read=store.get, templates=load_answer_templates(), clock=lambda: at(10))


def test_a_stored_state_is_answered_and_an_unreadable_one_is_not_found():
    state = apply_event(None, order(), at(0)).state
    store = {TRACKING: state_to_json(state), "1ZBROKEN": {"state_version": 99}}
    status, body, _ = lookups(store).shipment(TRACKING)
    assert status == 200 and body["situation"] == "not_shipped"
    assert body["answered_at"].startswith("2026-11-20T19:00")
    assert lookups(store).shipment("1ZBROKEN")[0] == 404
    assert lookups(store).shipment("1ZMISSING")[0] == 404


def test_a_retired_shipment_is_gone_not_unknown():
    marker = RetiredShipment(at(0), at(720), at(720 * 7), home_partition=0)
    store = {TRACKING: retired_to_json(marker)}
    status, body, _ = lookups(store).shipment(TRACKING)
    assert (status, body["error"]) == (410, "retired")
    assert lookups(store).shipment_state(TRACKING) is None  # the views: nothing to show


def test_a_retired_order_is_gone_and_its_return_is_not_read():
    marker = retired_to_json(RetiredShipment(at(0), at(720), at(720 * 7), home_partition=0))
    store = {order_key("A-1"): marker, return_key("A-1"): marker}
    assert lookups(store).order_retired("A-1") and not lookups(store).order_retired("A-2")
    status, body, _ = lookups(store).return_reply("A-1", None)
    assert (status, body["error"]) == (410, "retired")
    assert lookups(store).return_answer("A-1", None) is None
    assert lookups({return_key("A-1"): marker}).order_retired("A-1")  # a return-only order


def test_an_orders_index_names_its_shipments():
    links = (LinkedShipment("1ZA", 0), LinkedShipment("1ZB", 2))
    index = OrderFeedbackState("A-1", shipments=links)
    store = {order_key("A-1"): order_state_to_json(index)}
    assert lookups(store).order_shipments("A-1") == ("1ZA", "1ZB")
    assert lookups(store).order_shipments("A-2") is None


def returned_order_store(stored_as) -> dict:
    """A shipment of order A-1001 whose return arrived (as the returns agent stores it, in any
    of the shapes the table's JSON codec may hand back)."""
    state = apply_event(None, order(customer=Customer("c-1", "en-GB", "UTC")), at(0)).state
    requested, _ = run(event(T.RETURN_REQUESTED, 0), event(T.RETURN_LABEL_CREATED, 2))
    received = apply_return_scan(requested, parcel_scan("delivered", 25), at(26)).state
    return {TRACKING: state_to_json(state), return_key("A-1001"): stored_as(received)}


@pytest.mark.parametrize(
    "stored_as",
    [
        return_state_to_json,  # bytes
        lambda state: orjson.loads(return_state_to_json(state)),  # a JSON object
        lambda state: return_state_to_json(state).decode(),  # text
    ],
)
def test_a_shipment_of_an_order_with_a_return_answers_the_return_too(stored_as):
    status, body, _ = lookups(returned_order_store(stored_as)).shipment(TRACKING)
    assert status == 200 and body["returns"]["status"] == "received"
    assert body["returns"]["order_id"] == "A-1001" and body["returns"]["locale"] == "en"
    assert body["answer"].endswith(body["returns"]["answer"])
    assert "We received your return on Tuesday 17 November" in body["answer"]


def test_a_return_parcels_answer_speaks_of_the_return_and_carries_it():
    store = returned_order_store(return_state_to_json)
    link = ReturnParcelLink("A-1001", "RT123456", "dhl_express", 0, at(2))
    linked = link_return_parcel(None, link, at(2))
    assert linked is not None
    store["RT123456"] = state_to_json(linked.state)
    status, body, _ = lookups(store).shipment("RT123456")
    assert status == 200 and body["order"]["order_id"] == "A-1001"
    assert body["returns"]["status"] == "received"
    assert body["answer"].startswith("Your return parcel for order A-1001")
    assert body["answer"].endswith(body["returns"]["answer"])


def test_the_return_route_answers_the_return_or_null():
    found = lookups(returned_order_store(return_state_to_json))
    status, body, _ = found.return_reply("A-1001", "de-DE")
    assert status == 200 and body["returns"]["locale"] == "de"
    assert "Rücksendung" in body["returns"]["answer"]
    assert found.return_reply("A-2", None) == (200, {"order_id": "A-2", "returns": None}, {})


def test_an_unreadable_return_is_left_out_not_an_error():
    store = returned_order_store(return_state_to_json)
    store[return_key("A-1001")] = {"state_version": 99}
    status, body, _ = lookups(store).shipment(TRACKING)
    assert status == 200 and body["returns"] is None


def test_an_order_reply_carries_its_return_in_the_customers_locale():
    shipment = {"order": {"customer_locale": None}}, {"order": {"customer_locale": "fr-FR"}}
    assert answer_locale(list(shipment)) == "fr-FR" and answer_locale([]) is None
    returns = {"status": "received", "answer": "x"}
    _, body, _ = order_reply("A-1", [], ["1ZX"], returns)
    assert body == {"order_id": "A-1", "shipments": [], "returns": returns, "unavailable": ["1ZX"]}


@pytest.mark.parametrize(
    ("value", "kept"),
    [("de-DE", "de-DE"), ("fr", "fr"), ("", None), (None, None), ("x" * 40, None), ("<b>", None)],
)
def test_a_locale_hint_is_kept_only_when_it_could_be_a_locale(value, kept):
    assert locale_hint(value) == kept
