"""The employment blueprint every IPS sub-package adds its routes to, and the read guard.

Reads are open to `employment:read` (people, brokers, admins) or `employment:manage`
(provider staff and back-office clients); the record-level checks are in the services.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g
from flask_smorest import Blueprint

from auth.guard import require_auth
from employment.access import READ_SCOPES, require_read_scope

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "employment",
    __name__,
    url_prefix="/v1/employment",
    description="Individual Placement and Support (IPS): services, referrals, jobs, metrics",
)


def require_employment_read(view: F) -> F:
    """Require a bearer token with employment:read or employment:manage."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        require_read_scope(g.actor)
        return view(*args, **kwargs)

    wrapper = require_auth()(checked)
    doc = cast(Any, wrapper).__dict__.setdefault("_apidoc", {})
    doc.setdefault("manual_doc", {})["security"] = [{"oauth2": [s]} for s in READ_SCOPES]
    return cast(F, wrapper)
