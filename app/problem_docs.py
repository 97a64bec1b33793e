"""`/problems/<slug>`: what each problem `type` means, so the URIs clients see resolve."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.domain_errors import PROBLEM_TYPES, NotFound

blp = Blueprint("problems", __name__)


@blp.get("/problems/<slug>")
def describe(slug: str) -> ResponseReturnValue:
    """The meaning of one problem type."""
    if slug not in PROBLEM_TYPES:
        raise NotFound("No such problem type.")
    status, title, description = PROBLEM_TYPES[slug]
    return jsonify(type=f"/problems/{slug}", status=status, title=title, description=description)


@blp.get("/problems")
def index() -> ResponseReturnValue:
    """Every problem type the API can return."""
    return jsonify(
        [
            {"type": f"/problems/{slug}", "status": status, "title": title, "description": text}
            for slug, (status, title, text) in PROBLEM_TYPES.items()
        ]
    )
