"""The dated regulated rates: readable through the API, added by operators from the CLI
(`flask employment add-rate ...`) when a new rate is published."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
import marshmallow as ma
from flask.views import MethodView

from app.db import get_db, get_session
from app.domain_errors import Conflict
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from employment import rates
from employment.api import blp, require_employment_read


class DatedRateSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True, metadata={"enum": sorted(rates.RATE_UNITS)})
    min_age = ma.fields.Integer(
        dump_only=True, metadata={"description": "Lowest age it applies to."}
    )
    effective_from = ma.fields.Date(dump_only=True)
    value = ma.fields.Integer(dump_only=True)
    unit = ma.fields.String(dump_only=True)


class RateQueryArgsSchema(PageArgsSchema):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(sorted(rates.RATE_UNITS)))


@blp.route("/rates")
class Rates(MethodView):
    @require_employment_read
    @blp.arguments(RateQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(DatedRateSchema))
    @documents_problems(422)
    def get(self, args: dict[str, Any]) -> Any:
        """Minimum wage by age band and Universal Credit rates, each from its effective date."""
        return rates.list_rates(get_session(), kind=args["kind"], page=args["page"])


@blp.cli.command("add-rate")
@click.option("--kind", required=True, type=click.Choice(sorted(rates.RATE_UNITS)))
@click.option("--min-age", default=0, show_default=True, type=click.IntRange(0, 150))
@click.option("--effective-from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--value", required=True, type=click.IntRange(0), help="Pence, or basis points.")
def add_rate_command(kind: str, min_age: int, effective_from: Any, value: int) -> None:
    """Add a regulated rate (e.g. the new minimum wage) from its effective date."""
    session = get_db().session_factory()
    try:
        day: date = effective_from.date()
        rate = rates.add_rate(session, kind=kind, min_age=min_age, effective_from=day, value=value)
        click.echo(f"added {rate.kind} (age {rate.min_age}+) {rate.value} {rate.unit} from {day}")
    except Conflict as exc:
        raise click.ClickException(str(exc.detail)) from exc
    finally:
        session.close()
