"""Headless Chromium for the tracking page tests: Debian's chromium and chromium-driver, driven by
Selenium (no browser is downloaded). A missing browser fails the test: `deploy/dev.sh test`
installs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium
CHROMEDRIVER = Path("/usr/bin/chromedriver")  # Debian's chromium-driver


def headless_chromium(monkeypatch: pytest.MonkeyPatch, accept_languages: str) -> Any:
    """A started driver (the caller quits it); ``accept_languages``: e.g. ``de-DE,de``."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:  # a failure, never a skip: CI must run these tests
        pytest.fail(f"{missing} missing: deploy/dev.sh test installs chromium and chromium-driver")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not reach the network
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver
