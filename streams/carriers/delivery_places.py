"""Where a parcel was left, from the carrier's words when it gives no code for it."""

from __future__ import annotations

import re

from parcelwatch.schemas.types import DeliveryLocationKind as Kind

# First match wins: the specific places before the generic door and person. English, German,
# French, Spanish, Portuguese and Dutch carrier phrasing.
_WORDS: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind.PARCEL_LOCKER, ("locker", "packstation", "parcel ?box", "paketbox", "casier", "consigne",
                          "pakketautomaat")),
    (Kind.NEIGHBOUR, ("neighbou?r", "nachbar", "voisin", "vecino", "vizinho", "buren")),
    (Kind.PICKUP_POINT, ("pick ?up point", "access point", "parcel ?shop", "paketshop",
                         "post ?office", "filiale", "bureau de poste", "point relais", "relais",
                         "agência", "agencia", "service ?point")),
    (Kind.RECEPTION, ("front desk", "reception", "mail ?room", "concierge", "receptionist",
                      "office", "empfang", "accueil")),
    (Kind.MAILBOX, ("mail ?box", "letter ?box", "mail slot", "briefkasten", "boîte aux lettres",
                    "buzón", "caixa de correio", "brievenbus")),
    (Kind.PORCH, ("porch", "veranda")),
    (Kind.GARAGE, ("garage", "carport")),
    (Kind.BACK_DOOR, ("back ?door", "rear door", "back ?yard", "side door")),
    (Kind.SAFE_PLACE, ("safe ?place", "ablageort", "wunschort", "lieu sûr")),
    (Kind.FRONT_DOOR, ("front ?door", "door ?step", "front steps", "haustür", "haustuer",
                       "porte d'entrée", "voordeur")),
    (Kind.RECIPIENT, (r"\brecipient\b", "addressee", "consignee", r"\bresident\b", "in person",
                      "handed", "persönlich", "empfänger", "destinataire", "destinatario",
                      "destinatário", "geadresseerde")),
)  # fmt: skip
_PLACES = tuple((kind, re.compile("|".join(words), re.IGNORECASE)) for kind, words in _WORDS)


def delivery_kind_from_text(text: str) -> Kind:
    """The kind of place ``text`` names; ``other`` when it names none we know."""
    return next((kind for kind, pattern in _PLACES if pattern.search(text)), Kind.OTHER)
