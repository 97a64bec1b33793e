"""The Flask class the API runs on."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask


class ChoiceAndControlApp(Flask):
    """Flask, with its per-call coroutine check made cheap for plain functions.

    Flask asks whether every hook and view is a coroutine function each time it calls
    one (about fourteen times a request here), through `inspect.iscoroutinefunction`,
    which unwraps methods and partials first. A plain function or bound method answers
    from its code flags directly; anything else takes Flask's own path.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        code = getattr(getattr(func, "__func__", func), "__code__", None)
        if code is not None and not code.co_flags & inspect.CO_COROUTINE:
            return func
        return super().ensure_sync(func)
