#!/usr/bin/env bash
# Sets up a fresh machine for parcelwatch and runs it:
#   deploy/dev.sh demo [demo options]   venv + local Kafka + worker + simulator, Ctrl-C stops
#   deploy/dev.sh test [pytest options] venv + local Kafka + lint + the whole test suite (pytest)
#   deploy/dev.sh fault [chaos options] venv + the fault-injection suite (`parcelwatch chaos`) on a
#                                       Kafka broker of its own (own home and free ports)
# Needs Python >= 3.11, and Java 17+ with Maven for the local Kafka broker, openssl for the TLS
# tests, promtool (Debian package prometheus) for the alerting rules' tests and Chromium with its
# driver (chromium, chromium-driver) for the tracking page's browser test (installed with apt-get
# when missing and this runs as root on Debian/Ubuntu).
set -euo pipefail

cd "$(dirname "$0")/.."
command="${1:-}"
shift || true

# The Debian package of each missing command, e.g. `ensure_commands mvn:maven`.
ensure_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing ${missing[*]}"
      apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "Please install: ${missing[*]} (the local Kafka broker needs Java 17+ and Maven," \
        "the TLS tests openssl, the alerting rules' tests promtool, the browser test" \
        "chromium and chromedriver)" >&2
      exit 1
    fi
  fi
}

ensure_venv() {
  local python="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  # Re-install only when pyproject.toml changed since the last install.
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    touch .venv/.installed
  fi
}

case "$command" in
  demo)
    ensure_commands java:openjdk-17-jre-headless mvn:maven
    ensure_venv
    exec .venv/bin/parcelwatch demo "$@"
    ;;
  test)
    # openssl: tests/integration/test_security.py makes its certificates with it.
    # promtool: tests/project/test_alert_rules.py checks and unit-tests deploy/prometheus/rules.yml.
    # chromium, chromedriver: tests/integration/test_tracking_page.py opens the tracking page in
    # headless Chromium (Debian's builds: nothing is downloaded by Selenium).
    ensure_commands java:openjdk-17-jre-headless mvn:maven openssl:openssl promtool:prometheus \
      chromium:chromium chromedriver:chromium-driver
    ensure_venv
    started_kafka=0
    if ! .venv/bin/parcelwatch kafka status >/dev/null 2>&1; then
      .venv/bin/parcelwatch kafka up
      started_kafka=1
    fi
    stop_kafka() { if [ "$started_kafka" = 1 ]; then .venv/bin/parcelwatch kafka down || true; fi; }
    trap stop_kafka EXIT
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/python -m pytest "$@"
    ;;
  fault)
    ensure_commands java:openjdk-17-jre-headless mvn:maven
    ensure_venv
    exec .venv/bin/parcelwatch chaos "$@"
    ;;
  *)
    echo "usage: deploy/dev.sh demo|test|fault [options]" >&2
    exit 2
    ;;
esac
