"""Authlib wiring: the grants we allow, how they store codes and tokens, and the endpoints.

Allowed: authorization code with PKCE (S256 only, for every client), refresh token (rotated
on every use), client credentials (confidential provider back-office clients only).
No implicit grant and no password grant are registered, so they are refused as
`unsupported_response_type` / `unsupported_grant_type`.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    UnauthorizedClientError,
    grants,
    scope_to_list,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from flask import Flask, current_app

from app.db import get_session
from auth.models import OAuthAuthorizationCode, OAuthClient, OAuthToken, User
from auth.oauth import service as oauth_service
from auth.roles import BACK_OFFICE_SCOPES, Scope
from auth.tokens import TokenLifetimes, issue_token

PUBLIC_OR_CONFIDENTIAL = ["none", "client_secret_basic", "client_secret_post"]
CONFIDENTIAL_ONLY = ["client_secret_basic", "client_secret_post"]


def token_lifetimes() -> TokenLifetimes:
    """The configured access and refresh token lifetimes."""
    config = current_app.config
    return TokenLifetimes(
        access_seconds=int(config["ACCESS_TOKEN_LIFETIME_SECONDS"]),
        refresh_idle_seconds=int(config["REFRESH_TOKEN_IDLE_SECONDS"]),
        refresh_absolute_seconds=int(config["REFRESH_TOKEN_ABSOLUTE_SECONDS"]),
    )


class S256CodeChallenge(CodeChallenge):
    """PKCE that fails closed: a challenge is required and its method must be S256.

    Authlib on its own lets an authorization request without a challenge through, and
    accepts (and defaults to) `plain`.
    """

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send a code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _IssuesStoredTokens:
    """Tokens come from `auth.tokens.issue_token` (hashed rows), not Authlib's generator."""

    request: OAuth2Request

    def _issue(
        self, *, user: User | None, scope: str, refresh: bool, parent: OAuthToken | None = None
    ) -> dict[str, object]:
        issued = issue_token(
            get_session(),
            client_id=self.request.client.client_id,
            user_id=user.id if user is not None else None,
            scope=scope,
            lifetimes=token_lifetimes(),
            with_refresh_token=refresh,
            parent=parent,
        )
        self.request.issued_token = issued
        return issued.as_response()


class AuthorizationCodeGrant(_IssuesStoredTokens, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_CONFIDENTIAL

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        oauth_service.save_authorization_code(
            get_session(),
            code=code,
            client_id=request.client.client_id,
            user=request.user,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            lifetime_seconds=int(current_app.config["AUTHORIZATION_CODE_LIFETIME_SECONDS"]),
        )

    def query_authorization_code(
        self, code: str, client: OAuthClient
    ) -> OAuthAuthorizationCode | None:
        return oauth_service.claim_authorization_code(
            get_session(), code=code, client_id=client.client_id
        )

    def generate_token(
        self, user: User | None = None, scope: str | None = None, **kwargs: Any
    ) -> dict[str, object]:
        body = self._issue(user=user, scope=scope or "", refresh=kwargs["include_refresh_token"])
        code: OAuthAuthorizationCode = self.request.authorization_code
        code.token_family_id = self.request.issued_token.row.family_id
        return body

    def delete_authorization_code(self, authorization_code: OAuthAuthorizationCode) -> None:
        """Kept (marked used) rather than deleted, so a replay can revoke what it issued."""

    def authenticate_user(self, authorization_code: OAuthAuthorizationCode) -> User | None:
        return _active_user(authorization_code.user_id)


class RefreshTokenGrant(_IssuesStoredTokens, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_CONFIDENTIAL
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client: OAuthClient) -> OAuthToken:
        presented = self.request.form.get("refresh_token")
        if not presented:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        token = oauth_service.claim_refresh_token(
            get_session(), refresh_token=presented, client_id=client.client_id
        )
        if token is None:
            raise InvalidGrantError("The refresh token is invalid, expired or was used.")
        return token

    def issue_token(self, user: User, refresh_token: OAuthToken) -> dict[str, object]:
        requested = self.request.payload.scope or refresh_token.scope
        scope = oauth_service.grantable_scope(requested=requested, user=user)
        return self._issue(user=user, scope=scope, refresh=True, parent=refresh_token)

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        return _active_user(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        """Nothing to do: the claim already marked the refresh token used."""


class ClientCredentialsGrant(_IssuesStoredTokens, grants.ClientCredentialsGrant):
    """A provider's back-office system: confidential, tied to one organisation."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_ONLY

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: OAuthClient = self.request.client
        if client.is_public or client.organisation_id is None:
            raise UnauthorizedClientError("Only provider back-office clients may do this.")
        allowed = set(scope_to_list(client.get_allowed_scope(None)) or []) & {
            str(s) for s in BACK_OFFICE_SCOPES
        }
        requested = scope_to_list(self.request.payload.scope) or sorted(allowed)
        if not set(requested) <= allowed:
            raise InvalidScopeError()
        self.request.scope = " ".join(requested)

    def create_token_response(self) -> tuple[int, dict[str, object], list[tuple[str, str]]]:
        token = self._issue(user=None, scope=self.request.scope, refresh=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class Revocation(RevocationEndpoint):
    """RFC 7009: revoking either token of a sign-in revokes the whole family."""

    CLIENT_AUTH_METHODS = PUBLIC_OR_CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return oauth_service.find_token_for_revocation(
            get_session(), token=token_string, token_type_hint=token_type_hint
        )

    def revoke_token(self, token: OAuthToken, request: OAuth2Request) -> None:
        oauth_service.revoke_token(get_session(), token=token)


def _active_user(user_id: str | None) -> User | None:
    user = get_session().get(User, user_id) if user_id else None
    return user if user is not None and user.is_active else None


def _query_client(client_id: str) -> OAuthClient | None:
    return oauth_service.active_client(get_session(), client_id)


def _save_token(token: dict[str, object], request: OAuth2Request) -> None:
    # The row was added when the token was generated; this is the use case's one commit.
    get_session().commit()


def init_oauth(app: Flask) -> AuthorizationServer:
    """Build the authorization server for this app and keep it in `app.extensions`."""
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.scopes_supported = [str(s) for s in Scope]
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    app.extensions["oauth_server"] = server
    return server


def authorization_server() -> AuthorizationServer:
    """The current app's authorization server."""
    return current_app.extensions["oauth_server"]
