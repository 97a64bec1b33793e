"""Responses are encoded as Flask's own provider encodes them (app/json_provider.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from app.json_provider import FastJSONProvider, dumps_column, loads_column


@dataclass
class Point:
    x: int
    label: str


class Text(str):
    """A str subclass: orjson would write it as a plain string without asking."""


VALUES: list[Any] = [
    {"b": 1, "a": [1, 2, {"d": None, "c": True}], "e": "text"},
    {"when": datetime(2026, 12, 3, 8, 30, tzinfo=UTC), "day": date(2026, 12, 3)},
    {"id": uuid.UUID("01a23ae2-159f-7e24-9757-a16c0159bdef"), "point": Point(1, "p")},
    {"amount": 12_345, "rate": 0.25, "negative": -3},
    {"text": Text("subclass")},
    [1, "two", 3.5, None],
    {"huge": 2**70},  # beyond 64 bits: the standard library's turn
]


@pytest.fixture
def providers() -> tuple[FastJSONProvider, DefaultJSONProvider]:
    app = Flask(__name__)
    return FastJSONProvider(app), DefaultJSONProvider(app)


@pytest.mark.parametrize("value", VALUES)
def test_compact_output_is_byte_for_byte_flasks(
    providers: tuple[FastJSONProvider, DefaultJSONProvider], value: Any
) -> None:
    fast, standard = providers
    assert fast.dumps(value, separators=(",", ":")) == standard.dumps(value, separators=(",", ":"))


def test_non_ascii_text_is_utf8_and_reads_the_same(
    providers: tuple[FastJSONProvider, DefaultJSONProvider],
) -> None:
    fast, standard = providers
    value = {"name": "Zoë Ó'Brien", "note": "café ☕"}
    assert "Zoë" in fast.dumps(value)
    assert json.loads(fast.dumps(value)) == json.loads(standard.dumps(value)) == value


def test_a_float_in_exponent_form_may_be_spelled_differently_but_reads_the_same(
    providers: tuple[FastJSONProvider, DefaultJSONProvider],
) -> None:
    fast, standard = providers
    value = {"tiny": 1e-7, "big": 1.5e300}
    assert json.loads(fast.dumps(value)) == json.loads(standard.dumps(value)) == value


def test_options_orjson_lacks_are_the_standard_librarys(
    providers: tuple[FastJSONProvider, DefaultJSONProvider],
) -> None:
    fast, standard = providers
    value = {"b": 1, "a": {"c": 2}}
    assert fast.dumps(value, indent=2) == standard.dumps(value, indent=2)
    assert fast.dumps({1: "x"}) == standard.dumps({1: "x"})  # a key that is not a string


def test_a_json_column_decodes_as_the_standard_library_decodes_it() -> None:
    text = '{"languages": ["en", "cy"], "amount_pence": 1250, "rate": 0.5, "note": null}'
    assert loads_column(text) == loads_column(text.encode()) == json.loads(text)


class _Status(StrEnum):
    OPEN = "open"


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, 2.5, None, True], "é": "naïve ✓"},
        {"status": _Status.OPEN, 3: "a number as a key"},
        [],
        {"streams": {"s1": {"available": -120_000}}},
    ],
)
def test_a_json_columns_text_reads_back_as_the_standard_librarys(value: Any) -> None:
    assert json.loads(dumps_column(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "value", [{"at": datetime(2026, 1, 1, tzinfo=UTC)}, {"on": date(2026, 1, 1)}, {1, 2}]
)
def test_a_json_column_refuses_what_the_standard_library_refuses(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        dumps_column(value)
