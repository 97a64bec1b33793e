"""Payments endpoints: Stripe onboarding for providers, paying claims, refunds, webhooks."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.domain_errors import BadRequest
from app.idempotency import idempotent_in_steps
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.payments import history, onboarding, paying, refunds, webhooks
from budgets.payments.extension import payment_gateway, retry_policy
from budgets.payments.gateway import WebhookSignatureInvalid
from budgets.payments.schemas import (
    OnboardingLinkSchema,
    PayClaimSchema,
    PaymentSchema,
    PayoutSchema,
    ProviderPaymentQueryArgsSchema,
    RefundCreateSchema,
    RefundSchema,
    StripeAccountCreateSchema,
    StripeAccountSchema,
    WebhookReceiptSchema,
)

blp = Blueprint(
    "payments",
    __name__,
    url_prefix="/v1",
    description="Paying providers through Stripe: onboarding, payments, refunds, webhooks",
)

_PROVIDER_ROLES = [Role.PROVIDER_STAFF, "back_office"]


@blp.route("/providers/<string:organisation_id>/stripe-account")
class StripeAccount(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=_PROVIDER_ROLES)
    @blp.response(200, StripeAccountSchema)
    @documents_problems(404)
    def get(self, organisation_id: str) -> Any:
        """Whether your organisation can be paid through Stripe, and if not, why."""
        return onboarding.get_readiness(
            get_session(), organisation_id=organisation_id, actor=g.actor
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=[Role.PROVIDER_STAFF])
    @blp.arguments(StripeAccountCreateSchema(), required=False)
    @blp.response(201, StripeAccountSchema)
    @documents_problems(404, 409, 422, 503)
    def post(self, _body: dict[str, Any], organisation_id: str) -> Any:
        """Set up your organisation's Stripe account (owners only); then open an onboarding link."""
        return onboarding.start_onboarding(
            get_session(),
            organisation_id=organisation_id,
            actor=g.actor,
            gateway=payment_gateway(),
        )


@blp.route("/providers/<string:organisation_id>/stripe-account/onboarding-links")
class OnboardingLinks(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=[Role.PROVIDER_STAFF])
    @blp.arguments(StripeAccountCreateSchema(), required=False)
    @blp.response(201, OnboardingLinkSchema)
    @documents_problems(404, 409, 422, 503)
    def post(self, _body: dict[str, Any], organisation_id: str) -> Any:
        """A short-lived link to complete or update your details on Stripe (owners only)."""
        config = current_app.config
        return onboarding.create_onboarding_link(
            get_session(),
            organisation_id=organisation_id,
            actor=g.actor,
            gateway=payment_gateway(),
            refresh_url=config["STRIPE_CONNECT_REFRESH_URL"],
            return_url=config["STRIPE_CONNECT_RETURN_URL"],
        )


@blp.route("/providers/<string:organisation_id>/payments")
class ProviderPayments(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=_PROVIDER_ROLES)
    @blp.arguments(ProviderPaymentQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(PaymentSchema))
    @documents_problems(404)
    def get(self, args: dict[str, Any], organisation_id: str) -> Any:
        """Payments to your organisation for its claims, newest first."""
        return history.list_provider_payments(
            get_session(),
            organisation_id=organisation_id,
            actor=g.actor,
            page=args["page"],
            status=args["status"],
        )


@blp.route("/budgets/<string:budget_id>/payments")
class BudgetPayments(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(PaymentSchema))
    @documents_problems(404)
    def get(self, args: dict[str, Any], budget_id: str) -> Any:
        """Payments to providers from this budget, newest first, with why any failed."""
        return history.list_budget_payments(
            get_session(), budget_id=budget_id, actor=g.actor, page=args["page"]
        )


@blp.route("/providers/<string:organisation_id>/payouts")
class ProviderPayouts(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=_PROVIDER_ROLES)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(PayoutSchema))
    @documents_problems(404)
    def get(self, args: dict[str, Any], organisation_id: str) -> Any:
        """Payouts from your Stripe balance to your bank, newest first."""
        return history.list_provider_payouts(
            get_session(), organisation_id=organisation_id, actor=g.actor, page=args["page"]
        )


@blp.route("/webhooks/stripe")
class StripeWebhook(MethodView):
    @blp.response(200, WebhookReceiptSchema)
    @documents_problems(400, 503)
    def post(self) -> Any:
        """Stripe's event deliveries; verified by `Stripe-Signature` on the raw body."""
        gateway = payment_gateway()
        try:
            event = gateway.verify_webhook(
                request.get_data(cache=True), request.headers.get("Stripe-Signature")
            )
        except WebhookSignatureInvalid as exc:
            raise BadRequest(str(exc)) from exc
        outcome = webhooks.receive_event(get_session(), event=event, gateway=gateway)
        return {"received": True, "outcome": outcome}


@blp.route("/claims/<string:claim_id>/payments")
class ClaimPayments(MethodView):
    @require_auth(Scope.PAYMENTS_MANAGE, roles=[Role.ADMIN])
    @idempotent_in_steps
    @blp.arguments(PayClaimSchema(), required=False)
    @blp.response(201, PaymentSchema)
    @documents_problems(404, 409, 422, 503)
    def post(self, _body: dict[str, Any], claim_id: str) -> Any:
        """Pay the provider for a confirmed claim, exactly once.

        The money is spent from the budget now; the transfer follows at once or, if Stripe
        does not answer, automatically later (`status` stays `pending` until then).
        """
        return paying.pay_claim(
            get_session(),
            claim_id=claim_id,
            actor=g.actor,
            gateway=payment_gateway(),
            retry=retry_policy(),
        )


@blp.route("/payments/<string:payment_id>")
class PaymentItem(MethodView):
    @require_auth(roles=[Role.ADMIN, Role.PROVIDER_STAFF, Role.PERSON, Role.REPRESENTATIVE])
    @blp.response(200, PaymentSchema)
    @documents_problems(404)
    def get(self, payment_id: str) -> Any:
        """A payment: for the commissioner, the person, or the provider it pays."""
        return paying.get_payment(get_session(), payment_id=payment_id, actor=g.actor)


@blp.route("/payments/<string:payment_id>/refunds")
class PaymentRefunds(MethodView):
    @require_auth(Scope.PAYMENTS_MANAGE, roles=[Role.ADMIN])
    @idempotent_in_steps
    @blp.arguments(RefundCreateSchema())
    @blp.response(201, RefundSchema)
    @documents_problems(404, 409, 422, 503)
    def post(self, body: dict[str, Any], payment_id: str) -> Any:
        """Take back all or part of a payment (a refund or clawback) into the budget."""
        return refunds.request_refund(
            get_session(),
            payment_id=payment_id,
            amount_pence=body["amount"]["amount"],
            currency=body["amount"]["currency"],
            reason=body["reason"],
            actor=g.actor,
            gateway=payment_gateway(),
            retry=retry_policy(),
        )
