"""A scan location from a source's fields."""

from __future__ import annotations

from typing import Any

from parcelwatch.schemas.types import Location
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import text
from parcelwatch.streams.carriers.timezones import is_us_state


def location_of(city: Any, region: Any, postal_code: Any, country: Any) -> Location | None:
    """The location the fields name, the country as ISO 3166-1 alpha-2; None when they name
    nothing."""
    location = Location(
        city=text(city),
        region=text(region),
        postal_code=text(postal_code),
        country=country_code(text(country)),
    )
    return None if location == Location() else location


def assume_us(location: Location | None) -> Location | None:
    """US platforms often leave the country out of a US scan: a US state's code stands for it."""
    if location is None or location.country is not None or not location.region:
        return location
    if not is_us_state(location.region):
        return location
    return Location(location.city, location.region, location.postal_code, "US")
