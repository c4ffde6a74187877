"""Local times are read in the event location's zone, else the carrier's home zone, else UTC."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import Location, TimeZoneSource
from parcelwatch.streams.carriers.timezones import (
    ZONES_FILE,
    is_us_state,
    resolve_zone,
    zone_of_location,
)


@pytest.mark.parametrize(
    ("location", "zone"),
    [
        (Location(country="DE", city="Berlin"), "Europe/Berlin"),
        (Location(country="FR"), "Europe/Paris"),
        (Location(country="US", region="TX", city="Houston"), "America/Chicago"),
        (Location(country="US", region="az"), "America/Phoenix"),
        (Location(country="gb"), "Europe/London"),
    ],
)
def test_a_location_names_its_zone(location, zone):
    assert zone_of_location(location) == zone


@pytest.mark.parametrize(
    ("location", "zone"),
    [
        # Canada: province codes and names, the postal code's first letter, and the FSAs whose
        # zone differs from their province's.
        (Location(country="CA", region="ON"), "America/Toronto"),
        (Location(country="CA", region="Québec"), "America/Toronto"),
        (Location(country="CA", region="British Columbia"), "America/Vancouver"),
        (Location(country="CA", region="NL"), "America/St_Johns"),
        (Location(country="CA", postal_code="T2P 1J9"), "America/Edmonton"),
        (Location(country="CA", postal_code="R3C 4T3"), "America/Winnipeg"),
        (Location(country="CA", postal_code="S4P 3Y2"), "America/Regina"),
        (Location(country="CA", region="ON", postal_code="P9N 1A1"), "America/Winnipeg"),
        (Location(country="CA", region="NL", postal_code="A0P 1E0"), "America/Goose_Bay"),
        (Location(country="CA", region="NU", postal_code="X0C 0G0"), "America/Rankin_Inlet"),
        (Location(country="CA", city="Calgary"), "America/Edmonton"),
        # Australia: state codes and names, postcode ranges (NT 08xx, ACT 26xx/29xx).
        (Location(country="AU", region="NSW"), "Australia/Sydney"),
        (Location(country="AU", region="Western Australia"), "Australia/Perth"),
        (Location(country="AU", region="QLD"), "Australia/Brisbane"),
        (Location(country="AU", postal_code="0800"), "Australia/Darwin"),
        (Location(country="AU", postal_code="2600"), "Australia/Sydney"),
        (Location(country="AU", postal_code="2913"), "Australia/Sydney"),
        (Location(country="AU", postal_code="3000"), "Australia/Melbourne"),
        (Location(country="AU", postal_code="5000"), "Australia/Adelaide"),
        (Location(country="AU", postal_code="7000"), "Australia/Hobart"),
        (Location(country="AU", region="NSW", postal_code="2880"), "Australia/Broken_Hill"),
        (Location(country="AU", region="WA", postal_code="6443"), "Australia/Eucla"),
        # Brazil: UF codes and names, CEP with or without the dash, Fernando de Noronha.
        (Location(country="BR", region="SP"), "America/Sao_Paulo"),
        (Location(country="BR", region="Amazonas"), "America/Manaus"),
        (Location(country="BR", region="MT"), "America/Cuiaba"),
        (Location(country="BR", region="Pará"), "America/Belem"),
        (Location(country="BR", postal_code="01310-100"), "America/Sao_Paulo"),
        (Location(country="BR", postal_code="69005040"), "America/Manaus"),
        (Location(country="BR", postal_code="69900-062"), "America/Rio_Branco"),
        (Location(country="BR", postal_code="79002-000"), "America/Campo_Grande"),
        (Location(country="BR", postal_code="76801-000"), "America/Porto_Velho"),
        (Location(country="BR", postal_code="53990-000"), "America/Noronha"),
        (Location(country="BR", city="Porto Alegre"), "America/Sao_Paulo"),
        # Mexico: ISO codes, common abbreviations, names, the código postal's state digits.
        (Location(country="MX", region="CMX"), "America/Mexico_City"),
        (Location(country="MX", region="Nuevo León"), "America/Monterrey"),
        (Location(country="MX", region="BCN"), "America/Tijuana"),
        (Location(country="MX", region="Q. Roo"), "America/Cancun"),
        (Location(country="MX", postal_code="06600"), "America/Mexico_City"),
        (Location(country="MX", postal_code="22000"), "America/Tijuana"),
        (Location(country="MX", postal_code="83000"), "America/Hermosillo"),
        (Location(country="MX", postal_code="97000"), "America/Merida"),
        (Location(country="MX", region="CHH", postal_code="32000"), "America/Ciudad_Juarez"),
        (Location(country="MX", region="TAM", postal_code="88000"), "America/Matamoros"),
        # Russia: ISO codes, names, the index's region digits.
        (Location(country="RU", region="MOW"), "Europe/Moscow"),
        (Location(country="RU", region="Sverdlovsk Oblast"), "Asia/Yekaterinburg"),
        (Location(country="RU", region="PRI"), "Asia/Vladivostok"),
        (Location(country="RU", postal_code="101000"), "Europe/Moscow"),
        (Location(country="RU", postal_code="236000"), "Europe/Kaliningrad"),
        (Location(country="RU", postal_code="630000"), "Asia/Novosibirsk"),
        (Location(country="RU", postal_code="443000"), "Europe/Samara"),
        (Location(country="RU", postal_code="683000"), "Asia/Kamchatka"),
        # Indonesia: province codes and names, postal code regions.
        (Location(country="ID", region="JK"), "Asia/Jakarta"),
        (Location(country="ID", region="Bali"), "Asia/Makassar"),
        (Location(country="ID", region="Kalimantan Barat"), "Asia/Pontianak"),
        (Location(country="ID", postal_code="10110"), "Asia/Jakarta"),
        (Location(country="ID", postal_code="80361"), "Asia/Makassar"),
        (Location(country="ID", postal_code="99111"), "Asia/Jayapura"),
        # Kazakhstan: ISO codes (old letters and new digits), names; one offset since 2024.
        (Location(country="KZ", region="ATY"), "Asia/Atyrau"),
        (Location(country="KZ", region="27"), "Asia/Oral"),
        (Location(country="KZ", region="Almaty"), "Asia/Almaty"),
        (Location(country="KZ"), "Asia/Almaty"),
        # Antarctica: stations.
        (Location(country="AQ", city="McMurdo Station"), "Antarctica/McMurdo"),
        (Location(country="AQ", city="Dumont d'Urville"), "Antarctica/DumontDUrville"),
        # United States: names, and ZIP prefixes whose zone differs from their state's.
        (Location(country="US", region="Texas"), "America/Chicago"),
        (Location(country="US", region="New York"), "America/New_York"),
        (Location(country="US", region="TX", postal_code="79901"), "America/Denver"),
        (Location(country="US", region="TX", postal_code="77002-1234"), "America/Chicago"),
        (Location(country="US", region="FL", postal_code="32501"), "America/Chicago"),
        (Location(country="US", region="FL", postal_code="32301"), "America/New_York"),
        (Location(country="US", region="IN", postal_code="46320"), "America/Chicago"),
        (Location(country="US", region="IN", postal_code="47708"), "America/Chicago"),
        (Location(country="US", region="IN", postal_code="46204"), "America/Indiana/Indianapolis"),
        (Location(country="US", region="KY", postal_code="42101"), "America/Chicago"),
        (Location(country="US", region="TN", postal_code="37902"), "America/New_York"),
        (Location(country="US", region="TN", postal_code="37203"), "America/Chicago"),
        (Location(country="US", region="MI", postal_code="49801"), "America/Menominee"),
        (Location(country="US", region="OR", postal_code="97914"), "America/Boise"),
        (Location(country="US", region="ID", postal_code="83814"), "America/Los_Angeles"),
        (Location(country="US", region="NE", postal_code="69361"), "America/Denver"),
        (Location(country="US", region="KS", postal_code="67735"), "America/Denver"),
        (Location(country="US", region="ND", postal_code="58601"), "America/Denver"),
        (Location(country="US", region="SD", postal_code="57701"), "America/Denver"),
        (Location(country="US", city="Houston"), "America/Chicago"),
    ],
)
def test_multi_zone_countries_split_by_region_postal_code_and_city(location, zone):
    assert zone_of_location(location) == zone


@pytest.mark.parametrize("country", ["CA", "AU", "RU", "ID", "US"])
def test_a_multi_zone_country_without_a_place_names_no_zone(country):
    assert zone_of_location(Location(country=country)) is None


def test_a_postal_code_without_digits_is_not_read_as_a_prefix():
    # "N/A" would otherwise be Canada's "N" district (Ontario).
    assert zone_of_location(Location(country="CA", region="BC", postal_code="N/A")) == (
        "America/Vancouver"
    )


def test_region_and_city_keys_are_normalised_and_prefixes_are_short():
    countries = json.loads(ZONES_FILE.read_text())["countries"]
    for code, value in countries.items():
        if isinstance(value, str):
            continue
        for table in ("regions", "cities"):
            for key in value.get(table, {}):
                assert key.isascii() and key.isalnum() and key == key.upper(), (code, key)
        for prefix in value.get("prefixes", {}):
            assert prefix.isalnum() and 1 <= len(prefix) <= 5, (code, prefix)


def test_a_location_without_a_zone_falls_back_to_the_carriers_home():
    resolved = resolve_zone(Location(country="US"), "America/New_York")
    assert resolved.said.resolved_by is TimeZoneSource.CARRIER_HOME
    assert resolved.zone == ZoneInfo("America/New_York")
    assert resolve_zone(None, None).said.resolved_by is TimeZoneSource.UTC


def test_the_location_wins_over_the_home_zone():
    resolved = resolve_zone(Location(country="JP"), "America/New_York")
    assert (resolved.said.resolved_by, resolved.said.zone) == (
        TimeZoneSource.LOCATION,
        "Asia/Tokyo",
    )


def test_every_zone_in_the_data_exists_in_the_tz_database():
    countries = json.loads(ZONES_FILE.read_text())["countries"]
    names = set()
    for value in countries.values():
        if isinstance(value, str):
            names.add(value)
            continue
        names.update(value.get("regions", {}).values())
        names.update(value.get("prefixes", {}).values())
        names.update(value.get("cities", {}).values())
        if value.get("default"):
            names.add(value["default"])
    unknown = set()
    for name in names:
        try:
            ZoneInfo(name)
        except Exception:
            unknown.add(name)
    assert unknown == set()


def test_us_states_are_known_without_their_country():
    assert is_us_state("TX") and is_us_state("ny")
    assert not is_us_state("BY")
    # Names are regions too, but a bare name ("Georgia") must not make a location American.
    assert not is_us_state("Georgia")
