"""`Pence`: a marshmallow field for money stored as integer pence and sent as
`{"amount": <pence>, "currency": "GBP"}` (see app/money.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.money import MoneySchema, PositiveMoneySchema, money


class Pence(ma.fields.Field):
    """Dumps an int as a money object; loads a money object (above zero) as an int."""

    def __init__(self, *, positive: bool = True, **kwargs: Any) -> None:
        self._schema: ma.Schema = PositiveMoneySchema() if positive else MoneySchema()
        metadata = kwargs.pop("metadata", {})
        super().__init__(
            **kwargs,
            metadata={
                **metadata,
                "type": "object",
                "properties": {
                    "amount": {"type": "integer", "description": "Integer minor units (pence)"},
                    "currency": {"type": "string", "enum": ["GBP"]},
                },
            },
        )

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else money(int(value))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        loaded = self._schema.load(value) if isinstance(value, dict) else None
        if loaded is None:
            raise ma.ValidationError('Send {"amount": <integer pence>, "currency": "GBP"}.')
        return int(loaded["amount"])
