"""Offer endpoints under /v1: a provider's own offers, and the directory search."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.etag import if_match_tags
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import page_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.providers.offers import search, service
from budgets.providers.offers.models import Offer
from budgets.providers.offers.schemas import (
    OfferCreateSchema,
    OfferQueryArgsSchema,
    OfferSchema,
    OfferSearchArgsSchema,
    OfferUpdateSchema,
)

blp = Blueprint("offers", __name__, url_prefix="/v1", description="Offers and the directory search")
STAFF = [Role.PROVIDER_STAFF, "back_office"]


def _tagged(offer: Offer, status: int = 200) -> Any:
    return offer, status, {"ETag": version_etag(offer.id, offer.version)}


@blp.route("/offers")
class OfferSearch(MethodView):
    @require_auth(Scope.PROVIDERS_READ)
    @blp.arguments(OfferSearchArgsSchema(), location="query")
    @blp.response(200, page_schema(OfferSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Search published offers of verified providers.

        Filter by category, area (a postcode district or council area, or a person's own
        postcode district via `person_id`), delivery mode, maximum price per unit and
        words; sort by relevance (best match first, newest first without words) or price.
        """
        page = args.pop("page")
        return search.search_offers(
            get_session(), actor=g.actor, search=search.OfferSearch(**args), page=page
        )


@blp.route("/providers/<organisation_id>/offers")
class OrganisationOffers(MethodView):
    @require_auth(Scope.PROVIDERS_READ)
    @blp.arguments(OfferQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(OfferSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any], organisation_id: str) -> Any:
        """An organisation's offers: every state for its own staff, published for others."""
        return service.list_organisation_offers(
            get_session(),
            actor=g.actor,
            organisation_id=organisation_id,
            page=args["page"],
            status=args.get("status"),
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @idempotent
    @blp.arguments(OfferCreateSchema())
    @blp.response(201, OfferSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Create a draft offer for your organisation."""
        return _tagged(
            service.create_offer(
                get_session(), actor=g.actor, organisation_id=organisation_id, data=data
            ),
            201,
        )


@blp.route("/offers/<offer_id>")
class OfferItem(MethodView):
    @require_auth(Scope.PROVIDERS_READ)
    @blp.response(200, OfferSchema)
    @documents_problems(404)
    def get(self, offer_id: str) -> Any:
        """One offer."""
        return _tagged(service.get_offer(get_session(), actor=g.actor, offer_id=offer_id))

    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.arguments(OfferUpdateSchema())
    @blp.response(200, OfferSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def patch(self, data: dict[str, Any], offer_id: str) -> Any:
        """Change your offer (send If-Match). Bookings already made keep their price."""
        return _tagged(
            service.update_offer(
                get_session(),
                actor=g.actor,
                offer_id=offer_id,
                if_match=if_match_tags(),
                changes=data,
            )
        )


@blp.route("/offers/<offer_id>/publish")
class PublishOffer(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.response(200, OfferSchema)
    @documents_problems(404, 409, 422)
    def post(self, offer_id: str) -> Any:
        """Publish your offer (your organisation must be verified)."""
        return _tagged(service.publish_offer(get_session(), actor=g.actor, offer_id=offer_id))


@blp.route("/offers/<offer_id>/withdraw")
class WithdrawOffer(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.response(200, OfferSchema)
    @documents_problems(404, 409)
    def post(self, offer_id: str) -> Any:
        """Withdraw your offer from the directory; existing bookings go on as agreed."""
        return _tagged(service.withdraw_offer(get_session(), actor=g.actor, offer_id=offer_id))
