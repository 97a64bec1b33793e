"""A stateful fake Stripe API: accounts, account links, transfers and reversals, balance,
payouts and events, over real HTTP on loopback.

What it models of Stripe, because our code relies on it:
- form-encoded requests with bracketed keys (`metadata[claim_id]=...`), bearer API key;
- `Stripe-Account` (act as a connected account: its balance, its events, its payouts);
- idempotency: a POST with `Idempotency-Key` stores its response; the same key with the
  same request replays it (`Idempotent-Replayed: true`), with different parameters is a 400
  `idempotency_error`, and while the first is still running a 409 `idempotency_error`;
- Connect rules: a transfer needs the destination's `transfers` capability active and
  enough platform balance; reversals cannot exceed what is left of the transfer;
- events for every change (`account.updated`, `transfer.created`, `transfer.reversed`,
  `payout.paid`, `payout.failed`), readable at /v1/events, Connect ones with `account`;
- fault injection (`FakeStripe.inject`): a 500 before anything happens, a 500 or a
  timeout *after* the change was made (the response is lost, the change is not), an
  account error, or a dropped connection.

Tests drive the world through methods such as `complete_onboarding` and `pay_out`.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION = "2025-09-30.clover"


@dataclass
class Fault:
    """A planned misbehaviour for the next `times` requests matching method and path prefix.

    kinds: `server_error` (500, nothing done), `server_error_after` (done, then 500),
    `timeout_after` (done, then the response is delayed by `delay` seconds),
    `account_error` (400 `account_invalid`, nothing done), `drop` (connection closed,
    nothing done).
    """

    method: str
    path: str
    kind: str
    times: int = 1
    delay: float = 2.0


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


class _DroppedConnection(Exception):
    """Raised to close the socket without answering."""


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's bracketed form keys (`a[b][c]=v`, `a[0]=v`) into nested dicts."""
    result: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = raw_key.replace("]", "").split("[")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(result)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


class FakeStripe:
    """The fake's state and its HTTP handling (a WSGI app)."""

    def __init__(self, api_key: str = "sk_test_fake_key") -> None:
        self.api_key = api_key
        self.base_url = ""
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.reset()

    # ----- test controls -------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (between tests)."""
        with self._lock:
            self.accounts: dict[str, dict[str, Any]] = {}
            self.transfers: dict[str, dict[str, Any]] = {}
            self.payouts: dict[str, dict[str, Any]] = {}
            self.events: list[dict[str, Any]] = []
            self.platform_available: dict[str, int] = {"gbp": 10_000_000_00}
            self.account_available: dict[str, dict[str, int]] = {}
            self.idempotent: dict[tuple[str, str], dict[str, Any]] = {}
            self.in_flight: set[tuple[str, str]] = set()
            self.faults: list[Fault] = []
            self.requests: list[dict[str, Any]] = []
            self.clock_offset = 0

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def inject(
        self, kind: str, *, method: str = "POST", path: str, times: int = 1, delay: float = 2.0
    ) -> Fault:
        """Make the next `times` matching requests misbehave (see `Fault`)."""
        fault = Fault(method=method, path=path, kind=kind, times=times, delay=delay)
        with self._lock:
            self.faults.append(fault)
        return fault

    def calls(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        """Requests received so far for that method and path prefix."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r["method"] == method and r["path"].startswith(path_prefix)
            ]

    def create_account_directly(self, *, organisation_id: str | None = None) -> dict[str, Any]:
        """A connected account made outside the API under test (not yet onboarded)."""
        metadata = {"organisation_id": organisation_id} if organisation_id else {}
        with self._lock:
            return self._create_account({"metadata": metadata})

    def reverse_directly(self, transfer_id: str, amount: int) -> dict[str, Any]:
        """A reversal made in the Dashboard (a clawback); returns the transfer.reversed event."""
        with self._lock:
            self._create_reversal(transfer_id, {"amount": str(amount)})
            return copy.deepcopy(self.events[-1])

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The provider finished Stripe's onboarding: payouts and transfers enabled."""
        with self._lock:
            account = self.accounts[account_id]
            previous = {"payouts_enabled": account["payouts_enabled"]}
            account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True)
            account["capabilities"]["transfers"] = "active"
            account["requirements"].update(currently_due=[], past_due=[], disabled_reason=None)
            return self._emit("account.updated", account, account=account_id, previous=previous)

    def restrict_account(
        self, account_id: str, *, due: list[str], reason: str = "requirements.past_due"
    ) -> dict[str, Any]:
        """Stripe needs more information: payouts and transfers stop."""
        with self._lock:
            account = self.accounts[account_id]
            previous = {"payouts_enabled": account["payouts_enabled"]}
            account.update(payouts_enabled=False, charges_enabled=False)
            account["capabilities"]["transfers"] = "inactive"
            account["requirements"].update(
                currently_due=list(due), past_due=list(due), disabled_reason=reason
            )
            return self._emit("account.updated", account, account=account_id, previous=previous)

    def pay_out(
        self, account_id: str, amount: int, *, fail: bool = False, currency: str = "gbp"
    ) -> dict[str, Any]:
        """The connected account's balance is paid to its bank; returns the event."""
        with self._lock:
            payout = {
                "id": self._new_id("po"),
                "object": "payout",
                "amount": amount,
                "currency": currency,
                "arrival_date": self.now() + 86400,
                "created": self.now(),
                "status": "failed" if fail else "paid",
                "failure_code": "account_closed" if fail else None,
                "failure_message": "The bank account has been closed." if fail else None,
                "livemode": False,
                "metadata": {},
            }
            self.payouts[payout["id"]] = payout
            payout["_account"] = account_id
            kind = "payout.failed" if fail else "payout.paid"
            return self._emit(kind, payout, account=account_id)

    def add_transfer_directly(
        self, *, amount: int, destination: str, metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A transfer made outside our system (e.g. by hand in the Dashboard)."""
        with self._lock:
            return self._create_transfer(
                {
                    "amount": str(amount),
                    "currency": "gbp",
                    "destination": destination,
                    "metadata": metadata or {},
                }
            )

    def delete_transfer(self, transfer_id: str) -> None:
        """Make Stripe forget a transfer (to test reconciliation's other direction)."""
        with self._lock:
            del self.transfers[transfer_id]

    # ----- WSGI ----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._handle(request)
        except _DroppedConnection:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.close()
            response = Response(status=500)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        account = request.headers.get("Stripe-Account") or None
        params = decode_form(
            list(request.form.items(multi=True))
            if request.method == "POST"
            else list(request.args.items(multi=True))
        )
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "params": params,
                    "account": account,
                    "idempotency_key": request.headers.get("Idempotency-Key"),
                }
            )
            fault = self._take_fault(request.method, request.path)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._json(
                401,
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
            )
        if fault is not None and fault.kind == "drop":
            raise _DroppedConnection()
        if fault is not None and fault.kind == "server_error":
            return self._json(
                500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}
            )
        if fault is not None and fault.kind == "account_error":
            return self._json(
                400,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "account_invalid",
                        "message": "The destination account is closed or cannot receive funds.",
                    }
                },
            )

        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        scope = (account or "platform", key) if key else None
        fingerprint = json.dumps([request.path, params], sort_keys=True)
        if scope is not None:
            with self._lock:
                stored = self.idempotent.get(scope)
                if stored is not None:
                    if stored["fingerprint"] != fingerprint:
                        return self._json(
                            400,
                            {
                                "error": {
                                    "type": "idempotency_error",
                                    "message": (
                                        "Keys for idempotent requests can only be used with "
                                        "the same parameters they were first used with."
                                    ),
                                }
                            },
                        )
                    replay = self._json(stored["status"], stored["body"])
                    replay.headers["Idempotent-Replayed"] = "true"
                    return self._finish(replay, fault)
                if scope in self.in_flight:
                    return self._json(
                        409,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "There is currently another in-progress request "
                                "using this idempotency key.",
                            }
                        },
                    )
                self.in_flight.add(scope)
        try:
            with self._lock:
                try:
                    status, body = 200, self._route(request.method, request.path, params, account)
                except StripeError as error:
                    status, body = error.status, error.body
                if scope is not None and status < 500:
                    self.idempotent[scope] = {
                        "fingerprint": fingerprint,
                        "status": status,
                        "body": body,
                    }
        finally:
            if scope is not None:
                with self._lock:
                    self.in_flight.discard(scope)
        return self._finish(self._json(status, body), fault)

    def _finish(self, response: Response, fault: Fault | None) -> Response:
        if fault is not None and fault.kind == "timeout_after":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "server_error_after":
            return self._json(
                500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}
            )
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.startswith(fault.path) and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["Request-Id"] = f"req_{secrets.token_hex(8)}"
        return response

    # ----- routing -------------------------------------------------------------------

    def _route(
        self, method: str, path: str, params: dict[str, Any], account: str | None
    ) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p][1:]  # drop "v1"
        match (method, parts):
            case ("POST", ["accounts"]):
                return self._create_account(params)
            case ("GET", ["accounts", account_id]):
                return self._public(self._get("accounts", account_id))
            case ("POST", ["account_links"]):
                return self._create_account_link(params)
            case ("POST", ["transfers"]):
                return self._create_transfer(params)
            case ("GET", ["transfers"]):
                return self._list(self._filter_transfers(params), params, "/v1/transfers")
            case ("GET", ["transfers", transfer_id]):
                return self._public(self._get("transfers", transfer_id))
            case ("POST", ["transfers", transfer_id, "reversals"]):
                return self._create_reversal(transfer_id, params)
            case ("GET", ["transfers", transfer_id, "reversals"]):
                transfer = self._get("transfers", transfer_id)
                return self._list(transfer["reversals"]["data"], params, path)
            case ("GET", ["balance"]):
                return self._balance(account)
            case ("GET", ["payouts", payout_id]):
                payout = self._get("payouts", payout_id)
                if payout["_account"] != account:
                    raise self._missing("payout", payout_id)
                return self._public(payout)
            case ("GET", ["events", event_id]):
                for event in self.events:
                    if event["id"] == event_id and event.get("account") == account:
                        return copy.deepcopy(event)
                raise self._missing("event", event_id)
            case ("GET", ["events"]):
                events = [e for e in reversed(self.events) if e.get("account") == account]
                if "type" in params:
                    events = [e for e in events if e["type"] == params["type"]]
                return self._list(events, params, "/v1/events")
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}{secrets.token_hex(4)}"

    def _missing(self, kind: str, object_id: str) -> StripeError:
        return StripeError(
            404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
        )

    def _get(self, collection: str, object_id: str) -> dict[str, Any]:
        found = getattr(self, collection).get(object_id)
        if found is None:
            raise self._missing(collection.rstrip("s"), object_id)
        return found

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _list(
        self, items: list[dict[str, Any]], params: dict[str, Any], url: str
    ) -> dict[str, Any]:
        limit = int(params.get("limit", 10))
        if "starting_after" in params:
            ids = [item["id"] for item in items]
            start = (
                ids.index(params["starting_after"]) + 1 if params["starting_after"] in ids else 0
            )
            items = items[start:]
        page = items[:limit]
        return {
            "object": "list",
            "url": url,
            "has_more": len(items) > limit,
            "data": [self._public(item) for item in page],
        }

    def _emit(
        self,
        kind: str,
        obj: dict[str, Any],
        *,
        account: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": {"object": self._public(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        if account is not None:
            event["account"] = account
        self.events.append(event)
        return copy.deepcopy(event)

    # ----- resources -----------------------------------------------------------------

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        account = {
            "id": self._new_id("acct"),
            "object": "account",
            "type": params.get("type", "express"),
            "country": params.get("country", "GB"),
            "email": params.get("email"),
            "business_type": params.get("business_type"),
            "default_currency": "gbp",
            "details_submitted": False,
            "charges_enabled": False,
            "payouts_enabled": False,
            "capabilities": {
                name: "inactive" for name in (params.get("capabilities") or {"transfers": {}})
            },
            "requirements": {
                "currently_due": ["business_profile.url", "external_account", "tos_acceptance"],
                "eventually_due": [],
                "past_due": [],
                "disabled_reason": "requirements.past_due",
            },
            "metadata": params.get("metadata", {}),
            "created": self.now(),
        }
        self.accounts[account["id"]] = account
        self.account_available[account["id"]] = {"gbp": 0}
        return self._public(account)

    def _create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("account", "refresh_url", "return_url", "type"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", param=name)
        self._get("accounts", params["account"])
        return {
            "object": "account_link",
            "created": self.now(),
            "expires_at": self.now() + 300,
            "url": f"{self.base_url}/setup/e/{params['account']}/{secrets.token_urlsafe(12)}",
        }

    def _create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            raise StripeError(400, "Invalid integer: amount", param="amount") from None
        if amount <= 0:
            raise StripeError(400, "Amount must be at least 1", param="amount")
        currency = str(params.get("currency", "")).lower()
        if not currency:
            raise StripeError(400, "Missing required param: currency.", param="currency")
        destination = params.get("destination", "")
        if destination not in self.accounts:
            raise StripeError(400, f"No such destination: '{destination}'", code="resource_missing")
        if self.accounts[destination]["capabilities"].get("transfers") != "active":
            raise StripeError(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        if self.platform_available.get(currency, 0) < amount:
            raise StripeError(
                400,
                "You have insufficient available funds in your Stripe account.",
                code="balance_insufficient",
            )
        self.platform_available[currency] -= amount
        balances = self.account_available.setdefault(destination, {})
        balances[currency] = balances.get(currency, 0) + amount
        transfer_id = self._new_id("tr")
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": currency,
            "created": self.now(),
            "description": params.get("description"),
            "destination": destination,
            "destination_payment": self._new_id("py"),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "transfer_group": params.get("transfer_group"),
        }
        # Newest first, as Stripe lists them.
        self.transfers = {transfer_id: transfer, **self.transfers}
        self._emit("transfer.created", transfer)
        return self._public(transfer)

    def _filter_transfers(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        items = list(self.transfers.values())
        if "transfer_group" in params:
            items = [t for t in items if t["transfer_group"] == params["transfer_group"]]
        if "destination" in params:
            items = [t for t in items if t["destination"] == params["destination"]]
        created = params.get("created")
        if isinstance(created, dict) and "gte" in created:
            items = [t for t in items if t["created"] >= int(created["gte"])]
        return items

    def _create_reversal(self, transfer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        transfer = self._get("transfers", transfer_id)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = int(params["amount"]) if "amount" in params else remaining
        if amount <= 0 or amount > remaining:
            raise StripeError(
                400,
                f"You have requested a reversal of {amount}, but only {remaining} remains.",
                param="amount",
            )
        destination_balance = self.account_available[transfer["destination"]]
        destination_balance[transfer["currency"]] -= amount
        self.platform_available[transfer["currency"]] += amount
        reversal = {
            "id": self._new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "currency": transfer["currency"],
            "created": self.now(),
            "metadata": params.get("metadata", {}),
            "transfer": transfer_id,
        }
        transfer["reversals"]["data"].insert(0, reversal)
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        self._emit("transfer.reversed", transfer)
        return copy.deepcopy(reversal)

    def _balance(self, account: str | None) -> dict[str, Any]:
        if account is not None and account not in self.accounts:
            raise StripeError(
                403,
                "The provided key does not have access to account",
                type_="invalid_request_error",
                code="account_invalid",
            )
        available = self.platform_available if account is None else self.account_available[account]
        return {
            "object": "balance",
            "available": [{"amount": v, "currency": c} for c, v in available.items()],
            "pending": [{"amount": 0, "currency": c} for c in available],
            "livemode": False,
        }


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeStripeServer:
    """Serves a FakeStripe on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, fake: FakeStripe | None = None) -> None:
        self.fake = fake or FakeStripe()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeStripeServer:
        self._server = make_server(
            "127.0.0.1", 0, self.fake, threaded=True, request_handler=_QuietHandler
        )
        self.fake.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
