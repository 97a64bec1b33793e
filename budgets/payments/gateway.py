"""The payment gateway: the few Stripe operations we use, behind one small interface.

Services depend on `PaymentGateway`, never on the SDK; `StripeGateway` implements it with
the official `StripeClient`, configured from STRIPE_SECRET_KEY, STRIPE_API_BASE and
STRIPE_WEBHOOK_SECRET. Tests point STRIPE_API_BASE at the fake Stripe server in
tests/fake_stripe, so the code that talks to Stripe is the code under test.

Errors say what the caller may conclude:
- `PaymentRefused`: Stripe answered and refused; nothing happened (definitive).
- `GatewayUnavailable`: no answer, a timeout, a 5xx, a rate limit or a misconfiguration;
  the operation may or may not have happened, so retry with the same idempotency key.
- `WebhookSignatureInvalid`: a webhook whose signature is missing, wrong or stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe


class GatewayError(Exception):
    """A Stripe operation did not succeed."""


class PaymentRefused(GatewayError):
    """Stripe refused the request (4xx); nothing was done, retrying will not help."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or "refused"


class GatewayUnavailable(GatewayError):
    """The outcome is unknown: retry later with the same idempotency key."""


class WebhookSignatureInvalid(GatewayError):
    """A webhook did not carry a valid, recent Stripe-Signature for its raw body."""


class PaymentsNotConfigured(GatewayError):
    """No Stripe key is configured, so money cannot be moved."""


@dataclass(frozen=True)
class ConnectedAccount:
    """A provider's Stripe connected account, as Stripe sees it now."""

    id: str
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    transfers_capability: str
    requirements_due: tuple[str, ...]
    disabled_reason: str | None


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int


@dataclass(frozen=True)
class TransferReversal:
    id: str
    transfer_id: str
    amount: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    currency: str
    destination: str
    transfer_group: str | None
    amount_reversed: int
    created: int
    metadata: dict[str, str] = field(default_factory=dict)
    reversals: tuple[TransferReversal, ...] = ()


@dataclass(frozen=True)
class Payout:
    id: str
    account: str
    amount: int
    currency: str
    status: str
    arrival_date: int | None
    failure_code: str | None
    failure_message: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook event: what happened, to which object, in which account."""

    id: str
    type: str
    created: int
    account: str | None
    object: dict[str, Any]


class PaymentGateway(Protocol):
    """What the payments domain needs from Stripe."""

    configured: bool

    def create_account(
        self, *, organisation_id: str, email: str | None, idempotency_key: str
    ) -> ConnectedAccount: ...

    def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink: ...

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Transfer: ...

    def retrieve_transfer(self, transfer_id: str) -> Transfer: ...

    def list_transfers(
        self, *, created_since: int | None = None, transfer_group: str | None = None
    ) -> Iterator[Transfer]: ...

    def create_reversal(
        self,
        *,
        transfer_id: str,
        amount: int,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> TransferReversal: ...

    def retrieve_payout(self, *, payout_id: str, account_id: str) -> Payout: ...

    def platform_balance(self, currency: str) -> int: ...

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent: ...


def _plain(obj: Any) -> dict[str, Any]:
    """The SDK's StripeObject as a plain dict (they are not dicts since v15)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _account(raw: Any) -> ConnectedAccount:
    obj = _plain(raw)
    requirements = obj.get("requirements") or {}
    due = list(requirements.get("currently_due") or []) + [
        item for item in (requirements.get("past_due") or []) if item
    ]
    capabilities = obj.get("capabilities") or {}
    return ConnectedAccount(
        id=obj["id"],
        details_submitted=bool(obj.get("details_submitted")),
        charges_enabled=bool(obj.get("charges_enabled")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        transfers_capability=str(capabilities.get("transfers") or "inactive"),
        requirements_due=tuple(dict.fromkeys(due)),
        disabled_reason=requirements.get("disabled_reason"),
    )


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(obj.get("metadata") or {}).items()}


def _reversal(obj: dict[str, Any], transfer_id: str) -> TransferReversal:
    return TransferReversal(
        id=obj["id"],
        transfer_id=transfer_id,
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        metadata=_metadata(obj),
    )


def _transfer(raw: Any) -> Transfer:
    obj = _plain(raw)
    return Transfer(
        id=obj["id"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        destination=str(obj.get("destination") or ""),
        transfer_group=obj.get("transfer_group"),
        amount_reversed=int(obj.get("amount_reversed") or 0),
        created=int(obj.get("created") or 0),
        metadata=_metadata(obj),
        reversals=tuple(
            _reversal(r, obj["id"]) for r in (obj.get("reversals") or {}).get("data") or []
        ),
    )


def _payout(raw: Any, account_id: str) -> Payout:
    obj = _plain(raw)
    return Payout(
        id=obj["id"],
        account=account_id,
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        status=str(obj["status"]),
        arrival_date=obj.get("arrival_date"),
        failure_code=obj.get("failure_code"),
        failure_message=obj.get("failure_message"),
    )


def _translate(exc: stripe.StripeError) -> GatewayError:
    """Sort Stripe's errors into refused (definitive) and unavailable (outcome unknown)."""
    if isinstance(exc, stripe.IdempotencyError):
        # Our key was reused with other parameters, or the first try is still running:
        # a bug or a race on our side, never proof that nothing happened.
        return GatewayUnavailable(f"Stripe idempotency error: {exc.user_message or exc}")
    if isinstance(exc, stripe.RateLimitError | stripe.AuthenticationError | stripe.PermissionError):
        return GatewayUnavailable(f"Stripe refused our credentials or rate: {exc.user_message}")
    if isinstance(exc, stripe.InvalidRequestError | stripe.CardError):
        return PaymentRefused(exc.user_message or str(exc), code=exc.code)
    return GatewayUnavailable(f"Stripe did not answer clearly: {exc.user_message or exc}")


class StripeGateway:
    """`PaymentGateway` over the official SDK's `StripeClient`."""

    configured = True

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        webhook_secrets: tuple[str, ...],
        webhook_tolerance: int = 300,
        country: str = "GB",
    ) -> None:
        self._client = client
        self._webhook_secrets = webhook_secrets
        self._webhook_tolerance = webhook_tolerance
        self._country = country

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """Build the gateway from the app's STRIPE_* settings."""
        key = config.get("STRIPE_SECRET_KEY")
        if not key:
            raise PaymentsNotConfigured("STRIPE_SECRET_KEY is not set.")
        base = str(config.get("STRIPE_API_BASE") or stripe.DEFAULT_API_BASE).rstrip("/")
        client = stripe.StripeClient(
            str(key),
            base_addresses={"api": base, "connect": base, "files": base},
            max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)),
            http_client=stripe.RequestsClient(
                timeout=float(config.get("STRIPE_TIMEOUT_SECONDS", 30))
            ),
        )
        secrets = tuple(
            s.strip()
            for s in str(config.get("STRIPE_WEBHOOK_SECRET") or "").split(",")
            if s.strip()
        )
        return cls(
            client,
            webhook_secrets=secrets,
            webhook_tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)),
            country=str(config.get("STRIPE_CONNECT_COUNTRY", "GB")),
        )

    def _call(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def create_account(
        self, *, organisation_id: str, email: str | None, idempotency_key: str
    ) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "express",
            "country": self._country,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"organisation_id": organisation_id},
        }
        if email:
            params["email"] = email
        account = self._call(
            self._client.v1.accounts.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return _account(account)

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        return _account(self._call(self._client.v1.accounts.retrieve, account_id))

    def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink:
        link = _plain(
            self._call(
                self._client.v1.account_links.create,
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                },
            )
        )
        return AccountLink(url=link["url"], expires_at=int(link["expires_at"]))

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Transfer:
        transfer = self._call(
            self._client.v1.transfers.create,
            params={
                "amount": amount,
                "currency": currency.lower(),
                "destination": destination,
                "transfer_group": transfer_group,
                "metadata": dict(metadata),
            },
            options={"idempotency_key": idempotency_key},
        )
        return _transfer(transfer)

    def retrieve_transfer(self, transfer_id: str) -> Transfer:
        return _transfer(self._call(self._client.v1.transfers.retrieve, transfer_id))

    def list_transfers(
        self, *, created_since: int | None = None, transfer_group: str | None = None
    ) -> Iterator[Transfer]:
        params: dict[str, Any] = {"limit": 100}
        if created_since is not None:
            params["created"] = {"gte": created_since}
        if transfer_group is not None:
            params["transfer_group"] = transfer_group
        page = self._call(self._client.v1.transfers.list, params=params)
        try:
            for transfer in page.auto_paging_iter():
                yield _transfer(transfer)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def create_reversal(
        self,
        *,
        transfer_id: str,
        amount: int,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> TransferReversal:
        reversal = _plain(
            self._call(
                self._client.v1.transfers.reversals.create,
                transfer_id,
                params={"amount": amount, "metadata": dict(metadata)},
                options={"idempotency_key": idempotency_key},
            )
        )
        return _reversal(reversal, transfer_id)

    def retrieve_payout(self, *, payout_id: str, account_id: str) -> Payout:
        payout = self._call(
            self._client.v1.payouts.retrieve,
            payout_id,
            options={"stripe_account": account_id},
        )
        return _payout(payout, account_id)

    def platform_balance(self, currency: str) -> int:
        balance = _plain(self._call(self._client.v1.balance.retrieve))
        return sum(
            int(item["amount"])
            for item in balance["available"]
            if str(item["currency"]).lower() == currency.lower()
        )

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        """Check Stripe-Signature on the raw body against each configured secret."""
        if not self._webhook_secrets:
            raise WebhookSignatureInvalid("No webhook secret is configured.")
        for secret in self._webhook_secrets:
            try:
                event = stripe.Webhook.construct_event(
                    payload, signature_header, secret, tolerance=self._webhook_tolerance
                )
            except stripe.SignatureVerificationError:
                continue
            except ValueError as exc:
                raise WebhookSignatureInvalid("The webhook body is not JSON.") from exc
            plain = _plain(event)
            return WebhookEvent(
                id=str(plain["id"]),
                type=str(plain["type"]),
                created=int(plain.get("created") or 0),
                account=plain.get("account"),
                object=dict((plain.get("data") or {}).get("object") or {}),
            )
        raise WebhookSignatureInvalid("The Stripe-Signature header is missing, wrong or stale.")
