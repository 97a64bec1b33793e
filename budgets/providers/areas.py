"""Areas a provider serves: postcode districts ("LS6") and council areas (GSS codes such as
"E08000035"). One parser so registration, offers and search agree on the spelling."""

from __future__ import annotations

import re

from budgets.providers.models import AreaKind

_POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
_COUNCIL_AREA = re.compile(r"^[ENSW][0-9]{8}$")


def parse_area(raw: str) -> tuple[AreaKind, str]:
    """The kind and normal spelling of an area code; ValueError when it is neither kind."""
    code = raw.strip().upper()
    if _POSTCODE_DISTRICT.match(code):
        return AreaKind.POSTCODE_DISTRICT, code
    if _COUNCIL_AREA.match(code):
        return AreaKind.COUNCIL_AREA, code
    raise ValueError(
        f"{raw!r} is not a postcode district (like LS6) or a council area code (like E08000035)."
    )


def postcode_district(postcode: str) -> str:
    """The outward code of a full postcode ("LS6 2AB" -> "LS6"); ValueError if malformed."""
    compact = re.sub(r"\s+", "", postcode.upper())
    if not 5 <= len(compact) <= 7:
        raise ValueError(f"{postcode!r} is not a UK postcode.")
    kind, district = parse_area(compact[:-3])
    if kind is not AreaKind.POSTCODE_DISTRICT or not re.match(r"^[0-9][A-Z]{2}$", compact[-3:]):
        raise ValueError(f"{postcode!r} is not a UK postcode.")
    return district
