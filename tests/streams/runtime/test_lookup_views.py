"""The lookup API on the worker's web server (aiohttp test client; no broker): tokens, ids,
answers and errors."""

from __future__ import annotations

import logging

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from faust.exceptions import SameNode
from prometheus_client import CollectorRegistry
from yarl import URL

from parcelwatch.schemas.order_state import (
    LinkedShipment,
    OrderFeedbackState,
    order_key,
    order_state_to_json,
    return_key,
)
from parcelwatch.schemas.retired import RetiredShipment, retired_to_json
from parcelwatch.schemas.returns import ReturnEventType as T
from parcelwatch.schemas.state import state_to_json
from parcelwatch.schemas.types import Customer, ShipmentStatus
from parcelwatch.streams.core.returns import return_state_to_json
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.settings import Settings
from tests.factories import TRACKING, at, order, scan
from tests.streams.core.test_returns import event, run

TOKEN = "t0ken-for-the-lookup-tests"
OTHER = "another-valid-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def stored_state() -> dict:
    state = apply_event(None, order(customer=Customer("c-1", "de-DE", "Europe/Berlin")), at(0))
    state = apply_event(state.state, scan(ShipmentStatus.IN_TRANSIT, 5), at(5))
    return state_to_json(state.state)


async def client_for(
    tmp_path, tokens: tuple[str, ...], *, owner_here: bool = True, retired: bool = False
):
    settings = Settings(data_dir=tmp_path, store="memory://", api_tokens=tokens)
    worker = create_app(settings, registry=CollectorRegistry())
    app = worker.faust
    table = app.tables["shipments"]
    table.data[TRACKING] = stored_state()
    order_index = OrderFeedbackState("A-1001", shipments=(LinkedShipment(TRACKING, 0),))
    table.data[order_key("A-1001")] = order_state_to_json(order_index)
    returned, _ = run(event(T.RETURN_REQUESTED, 0), event(T.RETURN_LABEL_CREATED, 2))
    table.data[return_key("A-1001")] = orjson.loads(return_state_to_json(returned))
    if retired:  # each row removed after its retention: its marker stands
        marker = retired_to_json(RetiredShipment(at(0), at(720), at(720 * 7), home_partition=0))
        for key in (TRACKING, order_key("A-1001"), return_key("A-1001")):
            table.data[key] = marker

    async def route_here(*args, **kwargs):
        raise SameNode()

    async def no_owner(*args, **kwargs):
        raise KeyError("no assignment yet")

    app.router.route_req = route_here if owner_here else no_owner
    if owner_here:  # every key's owner is this worker
        app.router.key_store = lambda table, key: URL(str(app.conf.canonical_url))
    client = TestClient(TestServer(app.web.web_app))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path):
    client = await client_for(tmp_path, (TOKEN, OTHER))
    yield client
    await client.close()


async def test_a_shipment_is_answered_with_its_document(client):
    response = await client.get(f"/v1/shipments/{TRACKING}", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    # The worker answers on its own clock, long after the factories' promise (Nov 2026).
    assert body["tracking_number"] == TRACKING and body["situation"] == "running_late"
    assert body["locale"] == "de" and "UPS" in body["answer"]
    # The order's return, read from this worker (the owner of the order id's partition).
    assert body["returns"]["status"] == "label_ready" and body["returns"]["locale"] == "de"
    assert body["answer"].endswith(body["returns"]["answer"])


async def test_an_orders_return_has_its_own_route(client):
    response = await client.get("/v1/orders/A-1001/return?locale=fr-FR", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["order_id"] == "A-1001" and body["returns"]["locale"] == "fr"
    assert body["returns"]["return_tracking_number"] == "RT123456"
    unknown = await (await client.get("/v1/orders/B-2/return", headers=AUTH)).json()
    assert unknown == {"order_id": "B-2", "returns": None}
    assert (await client.get("/v1/orders/A-1001/return")).status == 401


async def test_every_configured_token_is_accepted(client):
    headers = {"Authorization": f"bearer {OTHER}"}
    assert (await client.get(f"/v1/shipments/{TRACKING}", headers=headers)).status == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-xxxxxxxxxx"}, {"Authorization": TOKEN}],
)
async def test_no_or_a_wrong_token_is_401_with_a_bearer_challenge(client, headers):
    response = await client.get(f"/v1/shipments/{TRACKING}", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"] == "unauthorized"


async def test_a_malformed_tracking_number_is_400(client):
    response = await client.get("/v1/shipments/bad%20number!", headers=AUTH)
    assert response.status == 400
    assert (await response.json())["error"] == "malformed_id"


async def test_an_unknown_shipment_or_order_is_404(client):
    for path in ("/v1/shipments/1ZUNKNOWN", "/v1/orders/B-404"):
        response = await client.get(path, headers=AUTH)
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"


async def test_a_retired_shipment_or_order_is_410(tmp_path):
    client = await client_for(tmp_path, (TOKEN,), retired=True)
    try:
        for path in (f"/v1/shipments/{TRACKING}", "/v1/orders/A-1001", "/v1/orders/A-1001/return"):
            response = await client.get(path, headers=AUTH)
            assert response.status == 410, path
            assert (await response.json())["error"] == "retired"
    finally:
        await client.close()


async def test_an_order_is_answered_with_its_shipments(client):
    response = await client.get("/v1/orders/A-1001", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["order_id"] == "A-1001" and body["unavailable"] == []
    assert [answer["tracking_number"] for answer in body["shipments"]] == [TRACKING]
    assert body["returns"]["status"] == "label_ready" and body["returns"]["locale"] == "de"
    assert body["shipments"][0]["returns"] == body["returns"]


async def test_without_tokens_the_api_is_absent(tmp_path):
    client = await client_for(tmp_path, ())
    try:
        response = await client.get(f"/v1/shipments/{TRACKING}", headers=AUTH)
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"
    finally:
        await client.close()


async def test_a_routing_failure_is_a_json_503_and_logs_no_id(tmp_path, caplog):
    client = await client_for(tmp_path, (TOKEN,), owner_here=False)
    try:
        with caplog.at_level(logging.DEBUG):
            response = await client.get(f"/v1/shipments/{TRACKING}", headers=AUTH)
        assert response.status == 503 and response.headers["Retry-After"].isdigit()
        assert (await response.json())["error"] == "unavailable"
        assert "/v1/shipments/<id>" in caplog.text  # the access log names the route, not the id
        assert TRACKING not in caplog.text and TOKEN not in caplog.text
    finally:
        await client.close()
