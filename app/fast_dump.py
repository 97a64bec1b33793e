"""Dumping response schemas without marshmallow's per-field call chain.

For every field of every object, `Schema.dump` goes through `Field.serialize`,
`Field.get_value`, `Schema.get_attribute`, `utils.get_value` and the field's `_serialize`.
A page of 20 offers is about 500 such chains, and on the offer list that was more CPU than
the SQL. `FastDumpSchema` turns a schema instance into one function, once, that does per
field only what those calls would do for it: get the value the way `utils.get_value` does,
skip a missing one, and pass anything that is not already a plain str, int or bool to the
field's own `_serialize`. Nested schemas and lists are inlined the same way.

A schema with dump hooks, or with a field that overrides how values are fetched, is
dumped by marshmallow as before. Under `FAST_DUMP_CHECK` (on in tests) every fast dump is
compared with marshmallow's, so the whole suite checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Converter = Callable[[Any], Any]
_Field = ma.fields.Field
_PLAIN = {ma.fields.String: str, ma.fields.Integer: int, ma.fields.Boolean: bool}
_ISO_FORMATTED = {ma.fields.DateTime: datetime, ma.fields.Date: date}
_ABSENT = object()  # a key the dict does not have


class NotCompilable(Exception):
    """The schema needs marshmallow's full machinery."""


def _getter(key: str) -> Converter:
    """`marshmallow.utils.get_value` for a key without dots (dicts have their own branch
    in the generated dump)."""

    def get(obj: Any) -> Any:
        if not hasattr(obj, "__getitem__"):
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)

    return get


def _require_plain_field(field: _Field) -> None:
    """Refuse a field that fetches or serializes values its own way."""
    if type(field).serialize is not _Field.serialize or type(field).get_value is not (
        _Field.get_value
    ):
        raise NotCompilable(type(field).__name__)


def _converter(field: _Field) -> Converter:
    """The field's `_serialize`, skipping the call when the value is already plain."""
    _require_plain_field(field)
    if isinstance(field, ma.fields.Nested):
        return _nested(field)
    if type(field) is ma.fields.List:
        inner = _converter(field.inner)
        return lambda value: None if value is None else [inner(each) for each in value]
    serialize = field._serialize
    plain = _PLAIN.get(type(field))
    if plain is not None and not getattr(field, "as_string", False):
        return lambda value: (
            value if value is None or type(value) is plain else serialize(value, None, None)
        )
    return lambda value: serialize(value, None, None)


def _nested(field: ma.fields.Nested) -> Converter:
    schema = field.schema
    many = bool(schema.many or field.many)
    try:
        dump_one = compile_schema(schema)
    except NotCompilable:
        return lambda value: field._serialize(value, None, None)
    if many:
        return lambda value: None if value is None else [dump_one(each) for each in value]
    return lambda value: None if value is None else dump_one(value)


def _expression(field: _Field, index: int, names: dict[str, Any]) -> str:
    """Python source that converts `v` as the field's `_serialize` would (see `_converter`),
    with what it calls put in `names` under this field's index."""
    _require_plain_field(field)
    plain = _PLAIN.get(type(field))
    if plain is not None and not getattr(field, "as_string", False):
        names[f"serialize{index}"], names[f"plain{index}"] = field._serialize, plain
        return f"v if v is None or type(v) is plain{index} else serialize{index}(v, None, None)"
    iso = _ISO_FORMATTED.get(type(field))
    if iso is not None and (field.format or field.DEFAULT_FORMAT) in ("iso", "iso8601"):  # type: ignore[attr-defined]
        # What the field's own conversion does for a value of exactly its type.
        names[f"serialize{index}"], names[f"iso{index}"] = field._serialize, iso
        return (
            f"None if v is None else v.isoformat() if type(v) is iso{index}"
            f" else serialize{index}(v, None, None)"
        )
    names[f"convert{index}"] = _converter(field)
    return f"convert{index}(v)"


def compile_schema(schema: ma.Schema) -> Converter:
    """One object -> its dumped dict, as `schema.dump(obj, many=False)` would give.

    The function is generated as Python source, one block a field, so a dump runs no loop
    and calls nothing for a value that is already plain. Most of what is dumped is dicts,
    which get their own branch; anything else is read as `marshmallow.utils.get_value`
    reads it."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        raise NotCompilable(f"{type(schema).__name__} has dump hooks")
    if type(schema).get_attribute is not ma.Schema.get_attribute:
        raise NotCompilable(f"{type(schema).__name__} overrides get_attribute")
    names: dict[str, Any] = {"missing": missing, "absent": _ABSENT}
    from_dict: list[str] = []
    from_object: list[str] = []
    for index, (name, field) in enumerate(schema.dump_fields.items()):
        source = field.attribute if field.attribute is not None else name
        if "." in source or not field._CHECK_ATTRIBUTE:
            raise NotCompilable(f"{type(schema).__name__}.{name}")
        key = field.data_key if field.data_key is not None else name
        names[f"get{index}"] = _getter(source)
        store = [f"if v is not missing: out[{key!r}] = {_expression(field, index, names)}"]
        default = field.dump_default
        if default is not missing:
            names[f"default{index}"] = default
            fill = f"default{index}()" if callable(default) else f"default{index}"
            store.insert(0, f"if v is missing: v = {fill}")
        from_dict += [
            f"v = obj.get({source!r}, absent)",
            f"if v is absent: v = getattr(obj, {source!r}, missing)",
            *store,
        ]
        from_object += [f"v = get{index}(obj)", *store]
    lines = [
        "def dump(obj):",
        "    out = {}",
        "    if type(obj) is dict:",
        *(f"        {line}" for line in from_dict or ["pass"]),
        "    else:",
        *(f"        {line}" for line in from_object or ["pass"]),
        "    return out",
    ]
    exec(compile("\n".join(lines), f"<fast dump of {type(schema).__name__}>", "exec"), names)  # noqa: S102
    dump: Converter = names["dump"]
    return dump


class FastDumpSchema(ma.Schema):
    """A response schema dumped by one compiled function (see the module docstring)."""

    _compiled: Converter | None

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        compiled = self.__dict__.get("_compiled", missing)
        if compiled is missing:
            try:
                compiled = compile_schema(self)
            except NotCompilable:
                compiled = None
            self._compiled = compiled
        if compiled is None:
            return super().dump(obj, many=many)
        many = self.many if many is None else bool(many)
        result = [compiled(each) for each in obj] if many and obj is not None else compiled(obj)
        if has_app_context() and current_app.config.get("FAST_DUMP_CHECK"):
            expected = super().dump(obj, many=many)
            if result != expected:
                raise AssertionError(f"{type(self).__name__}: {result!r} != {expected!r}")
        return result
