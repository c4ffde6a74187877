"""The customer tracking page in a real browser: a worker on the real broker with the page on,
an order and its scans published, and the signed link (from `parcelwatch tracking-link`) opened
in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium: no browser is
downloaded). The page shows the API's answer; an unsigned or badly signed link shows the 401
page. A missing browser fails the test: `deploy/dev.sh test` installs it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Location
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from parcelwatch.streams.runtime.page_links import link_signature
from tests.factories import order_at, scan_at
from tests.integration.browser import headless_chromium
from tests.integration.conftest import REPO, produce, wait_until_committed
from tests.integration.lookup_client import get_json, status_of, until, words

TOKEN = "integration-page-token-0123"
KEY = "integration-tracking-page-key-0123456789"
HOSTILE = "<script>document.title='pwned'</script>Kassel"
WORDS = load_page_labels().for_locale("de")


@pytest.fixture
def browser(monkeypatch) -> Any:
    driver = headless_chromium(monkeypatch, "de-DE,de")
    yield driver
    driver.quit()


def _api(port: int, tracking: str) -> tuple[int, dict[str, Any]]:
    return get_json(port, f"/v1/shipments/{tracking}", TOKEN)


async def test_the_signed_link_shows_the_answer_in_a_browser(deployment, workers, browser):
    worker = deployment.start_worker(
        "page",
        extra_env={"PARCELWATCH_API_TOKENS": TOKEN, "PARCELWATCH_TRACKING_PAGE_KEY": KEY},
    )
    workers.append(worker)

    now = utc_now()
    tracking = f"1ZPAGE{uuid.uuid4().hex[:10].upper()}"
    hub = Location(city="Louisville", region="KY", country="US")
    events = [
        order_at(tracking, now, locale="de-DE", timezone="Europe/Berlin"),
        replace(scan_at(tracking, "picked_up", now - timedelta(hours=2)), location=hub),
        replace(
            scan_at(tracking, "in_transit", now - timedelta(hours=1)),
            location=Location(city=HOSTILE, country="DE"),
        ),
    ]
    topics = deployment.topics
    await produce(
        [
            (topics.orders if hasattr(event, "order_id") else topics.carrier_scans,
             tracking.encode(), encode(event))
            for event in events
        ]
    )  # fmt: skip
    await wait_until_committed(deployment)
    await until(lambda: len(_api(worker.port, tracking)[1].get("timeline", ())) == 2)
    _, answer = _api(worker.port, tracking)

    base = f"http://127.0.0.1:{worker.port}"
    signing = subprocess.run(
        [sys.executable, "-m", "parcelwatch.streams.cli", "tracking-link", tracking,
         "--base-url", base],
        env={**worker.env, "PARCELWATCH_TRACKING_PAGE_KEY": KEY}, cwd=REPO,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    link = signing.stdout.strip()
    assert link.startswith(f"{base}/track/{tracking}?sig=")

    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    status_line = browser.find_element(By.ID, "status").text
    assert words(status_line) == words(answer["answer"])
    assert browser.title != "pwned"  # the carrier's <script> is text, not a script
    rows = browser.find_elements(By.CSS_SELECTOR, "li.scan")
    newest_first = list(reversed(answer["timeline"]))
    assert len(rows) == len(newest_first) == 2
    for row, entry in zip(rows, newest_first, strict=True):
        shown_at = row.find_element(By.TAG_NAME, "time").get_attribute("datetime")
        assert shown_at == entry["occurred_at"]
        assert row.find_element(By.CLASS_NAME, "what").text == WORDS.statuses[entry["status"]]
        assert row.find_element(By.CLASS_NAME, "where").text.startswith(entry["location"]["city"])
    assert browser.find_elements(By.CSS_SELECTOR, "script") == []
    current = browser.find_element(By.CSS_SELECTOR, ".progress [aria-current]").text
    assert current == WORDS.steps["in_transit"]

    wrong = link_signature(b"not-the-key-" * 4, tracking)
    for refused in (f"{base}/track/{tracking}", f"{base}/track/{tracking}?sig={wrong}"):
        assert status_of(refused) == 401
        browser.get(refused)
        assert browser.find_element(By.ID, "status").text == WORDS.labels["unauthorized"]
        assert tracking not in browser.page_source
        assert browser.find_elements(By.CSS_SELECTOR, "li.scan") == []

    log = worker.log_path.read_text(errors="replace")
    assert tracking not in log and link.rsplit("=", 1)[1] not in log and KEY not in log
