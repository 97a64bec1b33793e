"""FastDumpSchema gives exactly what marshmallow gives, and says so when it cannot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask

from app.fast_dump import FastDumpSchema, NotCompilable, compile_schema
from budgets.money_fields import Pence


class PartSchema(ma.Schema):
    code = ma.fields.String()
    count = ma.fields.Integer()


class WholeSchema(FastDumpSchema):
    id = ma.fields.String()
    title = ma.fields.String(data_key="name")
    size = ma.fields.Integer(attribute="size_units")
    active = ma.fields.Boolean()
    when = ma.fields.DateTime(allow_none=True)
    stamp = ma.fields.DateTime(format="rfc")
    day = ma.fields.Date()
    numbers = ma.fields.List(ma.fields.Integer())
    main = ma.fields.Nested(PartSchema, allow_none=True)
    parts = ma.fields.List(ma.fields.Nested(PartSchema))
    more = ma.fields.Nested(PartSchema, many=True)
    price = Pence(attribute="price_pence")
    kind = ma.fields.String(dump_default="standard")
    tags = ma.fields.List(ma.fields.String(), dump_default=list)
    quoted = ma.fields.String(data_key='it\'s "quoted"')
    absent = ma.fields.String()


@dataclass
class Part:
    code: str
    count: Any


@dataclass
class Whole:
    id: str
    title: Any
    size_units: Any
    active: Any
    when: datetime | None
    day: date
    numbers: list[Any]
    main: Part | None
    parts: list[Part]
    more: list[Part]
    price_pence: int
    quoted: str = "q"
    stamp: datetime = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    extra: dict[str, Any] = field(default_factory=dict)


def _whole(**changes: Any) -> Whole:
    values: dict[str, Any] = {
        "id": "w1",
        "title": "Swimming",
        "size_units": 3,
        "active": True,
        "when": datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        "day": date(2026, 12, 2),
        "numbers": [1, 2],
        "main": Part("a", 1),
        "parts": [Part("b", 2), Part("c", 3)],
        "more": [Part("d", 4)],
        "price_pence": 1_250,
    }
    return Whole(**{**values, **changes})


def _marshmallow(schema: ma.Schema, obj: Any, many: bool = False) -> Any:
    return ma.Schema.dump(schema, obj, many=many)


@pytest.mark.parametrize(
    "obj",
    [
        _whole(),
        _whole(when=None, main=None, parts=[], more=[]),
        # Values that are not already plain go through the field's own conversion.
        _whole(title=12, size_units=True, active=0, numbers=[True, 3]),
        # A datetime where a date is expected is formatted as the date field formats it.
        _whole(day=datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),
    ],
)
def test_objects_dump_exactly_as_marshmallow_dumps_them(obj: Whole) -> None:
    schema = WholeSchema()
    assert schema.dump(obj) == _marshmallow(schema, obj)
    assert schema.dump([obj, obj], many=True) == _marshmallow(schema, [obj, obj], many=True)
    dumped = schema.dump(obj)
    assert "absent" not in dumped and dumped["kind"] == "standard" and "name" in dumped
    assert dumped["tags"] == [] and dumped['it\'s "quoted"'] == "q"


def test_dicts_dump_exactly_as_marshmallow_dumps_them() -> None:
    schema = WholeSchema()
    row = {"id": "r1", "title": "Plan", "size_units": 2, "price_pence": 0, "day": date(2026, 1, 1)}
    assert schema.dump(row) == _marshmallow(schema, row)
    assert schema.dump(row)["price"] == {"amount": 0, "currency": "GBP"}


def test_only_and_exclude_are_honoured() -> None:
    obj = _whole()
    for schema in (WholeSchema(only=("id", "main")), WholeSchema(exclude=("parts", "price"))):
        assert schema.dump(obj) == _marshmallow(schema, obj)


def test_a_schema_with_dump_hooks_is_left_to_marshmallow() -> None:
    class Hooked(FastDumpSchema):
        id = ma.fields.String()

        @ma.post_dump
        def shout(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {key: value.upper() for key, value in data.items()}

    with pytest.raises(NotCompilable):
        compile_schema(Hooked())
    assert Hooked().dump({"id": "abc"}) == {"id": "ABC"}


class FromTheObject(ma.fields.Field):
    """A field whose output depends on the whole object, which the fast path never sees."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return f"{value}-{obj['suffix']}" if obj is not None else value


class Divergent(FastDumpSchema):
    id = FromTheObject()


def test_the_check_catches_a_field_the_fast_path_gets_wrong(app: Flask) -> None:
    row = {"id": "a", "suffix": "b"}
    with app.app_context():
        assert app.config["FAST_DUMP_CHECK"]  # on in every test
        with pytest.raises(AssertionError, match="Divergent"):
            Divergent().dump(row)
    assert Divergent().dump(row) == {"id": "a"}  # unchecked, it would have been wrong
