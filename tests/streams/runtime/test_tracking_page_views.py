"""The tracking page on the worker's web server (aiohttp test client; no broker): signed links,
support tokens, refusals as HTML pages, security headers, and ids out of the logs."""

from __future__ import annotations

import logging
import shutil

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from faust.exceptions import SameNode
from prometheus_client import CollectorRegistry
from yarl import URL

from parcelwatch.schemas.state import state_to_json
from parcelwatch.schemas.types import Customer, Location, ShipmentStatus
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import BUILT_IN, TemplateError
from parcelwatch.streams.message_templates.answer_files import BUILT_IN_ANSWERS
from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.page_links import link_signature
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.table_routing import FORWARDED_HEADER
from parcelwatch.streams.runtime.tracking_page_views import PAGE_HEADERS, first_language
from tests.factories import TRACKING, at, order, scan
from tests.streams.core.page_reading import PageReading

KEY = b"tracking-page-key-for-the-tests-0123456789"
TOKEN = "support-token-0123456789"
SIG = link_signature(KEY, TRACKING)
PAGE = f"/track/{TRACKING}?sig={SIG}"


def stored_state() -> dict:
    who = Customer("c-1", "de-DE", "Europe/Berlin")
    state = apply_event(None, order(customer=who), at(0)).state
    state = apply_event(
        state, scan(ShipmentStatus.IN_TRANSIT, 5, location=Location("Kassel")), at(5)
    )
    return state_to_json(state.state)


async def client_for(
    tmp_path, *, key: bytes | None = KEY, route=None, owner: URL | None = None, **settings_args
):
    """``owner``: the worker owning every key's partition (default: none assigned yet)."""
    settings = Settings(
        data_dir=tmp_path,
        store="memory://",
        api_tokens=(TOKEN,),
        tracking_page_key=key,
        **settings_args,
    )
    app = create_app(settings, registry=CollectorRegistry()).faust
    app.tables["shipments"].data[TRACKING] = stored_state()

    async def route_here(*args, **kwargs):
        raise SameNode()

    app.router.route_req = route or route_here
    if owner is not None:
        app.router.key_store = lambda table, key: owner
    client = TestClient(TestServer(app.web.web_app))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path):
    client = await client_for(tmp_path)
    yield client
    await client.close()


def assert_page_headers(response) -> None:
    assert response.content_type == "text/html"
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value


async def test_a_signed_link_shows_the_shipments_page_in_the_customers_language(client):
    response = await client.get(PAGE)
    assert response.status == 200
    assert_page_headers(response)
    page = PageReading(await response.text())
    api = await client.get(
        f"/v1/shipments/{TRACKING}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert page.by_id["status"] == (await api.json())["answer"]
    assert page.lang == "de"
    assert page.scans == ["Freitag, 20. November, 15:00 Unterwegs Kassel"]  # Berlin time


async def test_support_staff_open_any_page_with_their_api_token(client):
    response = await client.get(f"/track/{TRACKING}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200


@pytest.mark.parametrize(
    "query",
    ["", "?sig=", f"?sig={link_signature(b'x' * 32, TRACKING)}", f"?sig={SIG[:-2]}"],
)
async def test_a_missing_or_wrong_signature_is_a_401_page_without_detail(client, query):
    response = await client.get(f"/track/{TRACKING}{query}")
    assert response.status == 401
    assert_page_headers(response)
    text = await response.text()
    assert TRACKING not in text and "Unterwegs" not in text
    assert PageReading(text).by_id["status"].startswith("This tracking link is not valid")


async def test_another_shipments_signature_does_not_open_this_page(client):
    other = link_signature(KEY, "1ZOTHER0000001")
    assert (await client.get(f"/track/{TRACKING}?sig={other}")).status == 401


async def test_the_refusal_speaks_the_browsers_language(client):
    response = await client.get(f"/track/{TRACKING}", headers={"Accept-Language": "fr-CH,fr;q=0.9"})
    page = PageReading(await response.text())
    assert page.lang == "fr" and page.by_id["status"].startswith("Ce lien de suivi")


async def test_a_malformed_id_is_400_and_an_unknown_one_404(client):
    bad = "bad id!"
    response = await client.get(f"/track/bad%20id!?sig={link_signature(KEY, bad)}")
    assert response.status == 400
    assert_page_headers(response)
    unknown = "1ZUNKNOWN0001"
    response = await client.get(f"/track/{unknown}?sig={link_signature(KEY, unknown)}")
    assert response.status == 404
    assert_page_headers(response)
    assert "no tracking information" in PageReading(await response.text()).by_id["status"]


async def test_without_a_key_the_page_does_not_exist(tmp_path):
    client = await client_for(tmp_path, key=None)
    try:
        response = await client.get(PAGE, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 404
        assert "Content-Security-Policy" not in response.headers  # no route: aiohttp's own 404
    finally:
        await client.close()


async def test_a_page_forwarded_from_the_owner_gets_the_security_headers(tmp_path):
    async def owner_elsewhere(table_name, key, web, request):
        return web.html("<p>from the owner</p>", status=200)  # body and status, as Faust forwards

    client = await client_for(tmp_path, route=owner_elsewhere)
    try:
        response = await client.get(PAGE)
        assert response.status == 200 and await response.text() == "<p>from the owner</p>"
        assert_page_headers(response)
    finally:
        await client.close()


async def test_the_page_shows_the_orders_return_held_by_another_worker(tmp_path):
    """The order id's partition may be another worker's: the page asks it, with the API's token,
    marked as forwarded, and shows the return it answers."""
    asked: list[tuple[str, str | None, str | None]] = []
    returned = {"status": "refund_issued", "answer": "Wir haben 89,00 € erstattet.",
                "return_tracking_number": "JDRET0001", "refund_amount": "89.00",
                "refund_currency": "EUR"}  # fmt: skip

    async def order_owner(request: web.Request) -> web.Response:
        headers = request.headers
        asked.append((request.path, headers.get("Authorization"), headers.get(FORWARDED_HEADER)))
        return web.json_response({"order_id": "A-1001", "returns": returned})

    owner = TestServer(web.Application())
    owner.app.router.add_get("/v1/orders/{order_id}/return", order_owner)
    await owner.start_server()
    client = await client_for(tmp_path, owner=URL(str(owner.make_url("/"))))
    try:
        response = await client.get(PAGE)
        assert response.status == 200
        page = PageReading(await response.text())
        assert asked == [("/v1/orders/A-1001/return", f"Bearer {TOKEN}", "1")]
        assert returned["answer"] in page.by_id["returns"]
        assert "JDRET0001" in page.by_id["returns"]
    finally:
        await client.close()
        await owner.close()


async def test_a_routing_failure_is_a_503_page_and_logs_neither_id_nor_signature(tmp_path, caplog):
    async def no_owner(*args, **kwargs):
        raise KeyError("no assignment yet")

    client = await client_for(tmp_path, route=no_owner)
    try:
        with caplog.at_level(logging.DEBUG):
            response = await client.get(PAGE)
        assert response.status == 503
        assert_page_headers(response)
        assert "/track/<id>" in caplog.text
        assert TRACKING not in caplog.text and SIG not in caplog.text
    finally:
        await client.close()


async def test_an_operators_answer_files_without_page_words_stop_the_start(tmp_path):
    folder = tmp_path / "templates" / "answers"
    folder.mkdir(parents=True)
    shutil.copy(BUILT_IN / "en.json", tmp_path / "templates" / "en.json")  # notifications
    shutil.copy(BUILT_IN_ANSWERS / "en.json", folder / "en.json")
    text = (folder / "en.json").read_text()
    (folder / "en.json").write_text(text.replace('"history": "Tracking history",', ""))
    with pytest.raises(TemplateError, match=r"page\.labels missing \['history'\]"):
        await client_for(tmp_path, template_dir=tmp_path / "templates")


@pytest.mark.parametrize(
    ("header", "first"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de-DE"),
        ("fr;q=0.8", "fr"),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_the_browsers_first_language_is_read_from_accept_language(header, first):
    assert first_language(header) == first
