"""A scan location from a source's fields, as the platforms write them."""

from __future__ import annotations

from typing import Any

from parcelwatch.schemas.types import Location
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import text
from parcelwatch.streams.carriers.timezones import is_us_state


def location_of(city: Any, region: Any, postal_code: Any, country: Any) -> Location | None:
    """The location the fields name (None when they name nothing). US platforms often leave the
    country out of a US scan: a US state's code then stands for it."""
    location = Location(
        city=text(city),
        region=text(region),
        postal_code=text(postal_code),
        country=country_code(text(country)),
    )
    if location == Location():
        return None
    if location.country is None and location.region and is_us_state(location.region):
        location = Location(location.city, location.region, location.postal_code, "US")
    return location
