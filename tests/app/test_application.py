"""The app's Flask class: hooks and views that are plain functions are called as they are;
a coroutine function still goes through Flask's own async handling."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from flask import Flask


def test_plain_functions_and_bound_methods_are_returned_as_they_are(app: Flask) -> None:
    def view() -> str:
        return "plain"

    class View:
        def get(self) -> str:
            return "method"

    bound = View().get
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(bound) is bound


@pytest.mark.parametrize("kind", ["function", "bound method", "partial"])
def test_a_coroutine_function_goes_through_flasks_async_path(
    app: Flask, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    async def view(*_args: Any) -> str:
        return "async"

    class View:
        async def get(self) -> str:
            return "async"

    func: Any = {
        "function": view,
        "bound method": View().get,
        "partial": functools.partial(view, 1),
    }[kind]
    handed: list[Any] = []

    def async_to_sync(given: Any) -> Any:
        handed.append(given)
        return lambda *args, **kwargs: "ran through Flask"

    monkeypatch.setattr(app, "async_to_sync", async_to_sync)
    assert app.ensure_sync(func)() == "ran through Flask"
    assert handed == [func]
