"""Money on the wire: `{"amount": <integer pence>, "currency": "GBP"}`, never floats.

Stored as a BigInteger of minor units beside a currency column. Only GBP is accepted
today; the currency travels with every amount so that stays a data change.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

SUPPORTED_CURRENCIES = ("GBP",)
MAX_AMOUNT = 10**12  # pence: far above any budget, below BigInteger limits


class MoneySchema(ma.Schema):
    """An amount of money in minor units (pence)."""

    class Meta:
        unknown = ma.RAISE

    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=-MAX_AMOUNT, max=MAX_AMOUNT),
        metadata={"description": "Integer minor units (pence)", "example": 12550},
    )
    currency = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SUPPORTED_CURRENCIES),
        metadata={"example": "GBP"},
    )


class PositiveMoneySchema(MoneySchema):
    """An amount that must be more than zero (a price, a payment, an allocation)."""

    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Integer minor units (pence), above zero", "example": 12550},
    )


def money(amount: int, currency: str = "GBP") -> dict[str, Any]:
    """The wire form of an amount."""
    return {"amount": int(amount), "currency": currency}
