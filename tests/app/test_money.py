"""The money wire format rejects floats, strings and unknown currencies."""

from __future__ import annotations

import marshmallow as ma
import pytest

from app.money import MoneySchema, PositiveMoneySchema, money


def test_integer_pence_round_trip() -> None:
    assert MoneySchema().load(money(12550)) == {"amount": 12550, "currency": "GBP"}


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": 125.5, "currency": "GBP"},
        {"amount": "12550", "currency": "GBP"},
        {"amount": 100, "currency": "EUR"},
        {"amount": 100},
        {"amount": 100, "currency": "GBP", "extra": 1},
    ],
)
def test_rejects_anything_but_integer_pence_in_gbp(bad: dict) -> None:
    with pytest.raises(ma.ValidationError):
        MoneySchema().load(bad)


def test_positive_money_refuses_zero() -> None:
    with pytest.raises(ma.ValidationError):
        PositiveMoneySchema().load(money(0))
