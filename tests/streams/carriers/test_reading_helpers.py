"""The helpers parsers share: documents, times, countries, carrier names, delivery places."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from parcelwatch.schemas.types import DeliveryLocationKind
from parcelwatch.streams.carriers.carrier_names import carrier_id
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.delivery_places import delivery_kind_from_text
from parcelwatch.streams.carriers.documents import as_list, dig, read_document, text, xml_text
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.times import (
    from_epoch,
    parse_date,
    parse_iso,
    parse_with,
    utc_offset,
)


def test_json_and_xml_are_told_apart_and_xml_loses_its_namespaces():
    assert read_document(b'\xef\xbb\xbf {"a": 1}') == {"a": 1}
    root = read_document(b'<?xml version="1.0"?><x:A xmlns:x="urn:x"><x:B>  hi  </x:B></x:A>')
    assert root.tag == "A" and xml_text(root, "B") == "hi"


def test_a_latin1_xml_answer_reads_by_its_declaration():
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><a>São Paulo</a>'.encode("latin-1")
    assert xml_text(read_document(body)) == "São Paulo"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"<a><b></a>",
        # Entity expansion ("billion laughs") and DTDs are refused, not expanded.
        b'<!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>',
        b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
    ],
)
def test_unreadable_or_hostile_payloads_are_payload_errors(body):
    with pytest.raises(PayloadError):
        read_document(body)


def test_json_helpers_tolerate_missing_and_single_items():
    data = {"a": [{"b": "x"}], "c": {"d": 5}}
    assert dig(data, "a", 0, "b") == "x"
    assert dig(data, "a", 3, "b") is None and dig(data, "c", "d", "e") is None
    assert as_list(None) == [] and as_list({"k": 1}) == [{"k": 1}]
    assert text("  two   words ") == "two words" and text("") is None and text(7) == "7"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 10)),
        ("2026-11-20 10:00", datetime(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00.1234567Z", datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)),
        (
            "2026-11-20T10:00:00+0130",
            datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(hours=1, minutes=30))),
        ),
        (
            "2026-11-20T10:00:00-05",
            datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2026-11-20", datetime(2026, 11, 20)),
    ],
)
def test_iso_times_as_carriers_write_them(value, expected):
    assert parse_iso(value) == expected


@pytest.mark.parametrize(
    "value", ["20/11/2026", "2026-02-30T10:00:00", "2026-11-20T10:00:00+25:00"]
)
def test_impossible_or_foreign_iso_times_are_payload_errors(value):
    with pytest.raises(PayloadError):
        parse_iso(value)


@pytest.mark.parametrize(
    ("value", "hours"),
    [("Z", 0.0), ("-05:00", -5.0), ("-0500", -5.0), ("+05", 5.0), ("-7:00", -7.0),
     ("-04.00", -4.0), ("+05:30", 5.5)],
)  # fmt: skip
def test_utc_offsets_as_carriers_write_them(value, hours):
    zone = utc_offset(value)
    assert zone is not None
    assert zone.utcoffset(None) == timedelta(hours=hours)


@pytest.mark.parametrize("value", [None, "", "EST", "+25:00", "-05:75", "5"])
def test_unreadable_or_impossible_offsets_are_none(value):
    assert utc_offset(value) is None


def test_other_formats_dates_and_epochs():
    assert parse_with("11/20/2026  1:05 pm", "%Y-%m-%d", "%m/%d/%Y %I:%M %p") == datetime(
        2026, 11, 20, 13, 5
    )
    assert parse_date("20.11.2026", "%d.%m.%Y") == date(2026, 11, 20)
    assert from_epoch(1_764_000_000_000, milliseconds=True) == from_epoch(1_764_000_000)
    with pytest.raises(PayloadError):
        parse_with("tomorrow", "%Y-%m-%d")


@pytest.mark.parametrize(
    ("value", "code"),
    [("US", "US"), ("usa", "US"), ("UNITED STATES", "US"), ("Deutschland", "DE"),
     ("Brasil", "BR"), ("FRA", "FR"), ("Royaume-Uni", "GB"), ("Atlantis", None), (None, None)],
)  # fmt: skip
def test_country_names_and_codes(value, code):
    assert country_code(value) == code


@pytest.mark.parametrize(
    ("name", "carrier"),
    [("USPS", "usps"), ("FedEx", "fedex"), ("DHLExpress", "dhl_express"), ("canada-post",
     "canadapost"), ("Purolator", "purolator"), ("Poste Italiane!", "poste_italiane"),
     ("", "unknown"), (None, "unknown")],
)  # fmt: skip
def test_platform_carrier_names_become_carrier_ids(name, carrier):
    assert carrier_id(name) == carrier


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("DELIVERED - FRONT DOOR", DeliveryLocationKind.FRONT_DOOR),
        ("Left with neighbour at no. 12", DeliveryLocationKind.NEIGHBOUR),
        ("Zugestellt in Packstation 123", DeliveryLocationKind.PARCEL_LOCKER),
        ("Delivered to mail room", DeliveryLocationKind.RECEPTION),
        ("In/At Mailbox", DeliveryLocationKind.MAILBOX),
        ("Delivered", DeliveryLocationKind.OTHER),
    ],
)
def test_delivery_places_from_words(words, kind):
    assert delivery_kind_from_text(words) is kind
