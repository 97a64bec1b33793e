"""The reference: the bare stack (Flask + SQLAlchemy) reading one row by primary key.

It lives outside the product's code on purpose: it is the ceiling the product is compared
with, served by the same gunicorn settings against the same database in the same run.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker


def create_reference_app() -> Flask:
    """A Flask app with one route: GET /ref/<person_id> returns that person as JSON."""
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"])
    factory = sessionmaker(engine)
    app.extensions["engine"] = engine  # for bench/instructions.py's PostgreSQL CPU figure

    @app.get("/ref/<person_id>")
    def read_person(person_id: str) -> Any:
        with factory() as session:
            row = session.execute(
                text("SELECT id, given_name, family_name, postcode FROM people WHERE id = :id"),
                {"id": person_id},
            ).first()
        if row is None:
            abort(404)
        return jsonify(dict(row._mapping))

    return app
