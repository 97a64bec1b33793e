"""Configuration classes, read from the environment.

`APP_ENV` picks the class (development, testing, production). Development makes
throwaway secrets so a newcomer needs nothing set; production refuses to start when a
secret is missing or still a placeholder, and names the one at fault.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "secret", "xxx", "example")
REQUIRED_PRODUCTION_SECRETS = ("SECRET_KEY", "DATABASE_URL")


class ConfigurationError(RuntimeError):
    """The application cannot start with the configuration it was given."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_days(name: str) -> dict[str, int]:
    """`notifications=365,audit_entries=2920` -> {"notifications": 365, ...}."""
    raw = os.environ.get(name, "")
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = part.partition("=")
        if not value.strip().isdigit():
            raise ConfigurationError(f"{name} entries look like record_type=days, got {part!r}")
        result[key.strip()] = int(value)
    return result


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    DATABASE_URL: str | None = os.environ.get("DATABASE_URL")
    SQL_ECHO = False

    # API and OpenAPI document
    API_TITLE = "Choice and Control API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    PROBLEM_TYPE_BASE = "/problems/"

    # Requests
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    PAGINATION_DEFAULT_LIMIT = 20
    PAGINATION_MAX_LIMIT = 100
    IDEMPOTENCY_KEY_TTL_HOURS = _env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48)
    # A request still marked in progress after this long is taken to have died.
    IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = 60

    # Tokens (opaque, checked against the database; see README "Tokens")
    ACCESS_TOKEN_LIFETIME_SECONDS = _env_int("ACCESS_TOKEN_LIFETIME_SECONDS", 600)
    REFRESH_TOKEN_IDLE_SECONDS = _env_int("REFRESH_TOKEN_IDLE_SECONDS", 14 * 24 * 3600)
    REFRESH_TOKEN_ABSOLUTE_SECONDS = _env_int("REFRESH_TOKEN_ABSOLUTE_SECONDS", 90 * 24 * 3600)
    AUTHORIZATION_CODE_LIFETIME_SECONDS = 60

    # Accounts: sign-in lockout, link lifetimes, where links point, optional SMTP
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_SECONDS = _env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "20 per minute")
    INVITATION_LIFETIME_SECONDS = _env_int("INVITATION_LIFETIME_SECONDS", 7 * 24 * 3600)
    PASSWORD_RESET_LIFETIME_SECONDS = _env_int("PASSWORD_RESET_LIFETIME_SECONDS", 30 * 60)
    # Links in emails and the OAuth issuer; the request's host in development if unset.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = _env_int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "no-reply@choiceandcontrol.invalid")

    # Cross-origin access: exact origins allowed (comma-separated); none by default.
    CORS_ALLOWED_ORIGINS = tuple(
        o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()
    )

    # Data protection: days each kind of record is kept (see app/data_protection/retention.py)
    RETENTION_DAYS = _env_days("RETENTION_DAYS")

    # Claims not confirmed or disputed within this many days confirm themselves.
    CLAIM_CONFIRMATION_WINDOW_DAYS = _env_int("CLAIM_CONFIRMATION_WINDOW_DAYS", 7)
    # Delta sync (app/sync.py): how long deletions are remembered, and how far `synced_at`
    # trails the clock so changes committed during a sync are picked up next time.
    SYNC_TOMBSTONE_RETENTION_DAYS = _env_int("SYNC_TOMBSTONE_RETENTION_DAYS", 90)
    SYNC_OVERLAP_SECONDS = 30

    # Mobile app: builds older than this get 426 (empty: no minimum). See app/app_version.py.
    MIN_APP_VERSION = os.environ.get("MIN_APP_VERSION", "")

    # Push notifications: which sender `flask send-pushes` uses (mobile_contract/notifications).
    PUSH_SENDER = os.environ.get("PUSH_SENDER", "logging")

    # Rate limits ("120/minute;2000/hour" syntax); counters in Redis when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_ENABLED = True
    RATE_LIMIT_PER_CALLER = os.environ.get("RATE_LIMIT_PER_CALLER", "120/minute;2000/hour")
    RATE_LIMIT_PER_CLIENT = os.environ.get("RATE_LIMIT_PER_CLIENT", "60000/minute")

    # Logging
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Stripe (payments to providers; see README "Payments through Stripe")
    STRIPE_SECRET_KEY: str | None = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
    # One secret, or several comma-separated (the platform and the Connect endpoint).
    STRIPE_WEBHOOK_SECRET: str | None = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_WEBHOOK_TOLERANCE_SECONDS = _env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
    STRIPE_TIMEOUT_SECONDS = float(_env_int("STRIPE_TIMEOUT_SECONDS", 30))
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    STRIPE_CONNECT_COUNTRY = os.environ.get("STRIPE_CONNECT_COUNTRY", "GB")
    STRIPE_CONNECT_RETURN_URL = os.environ.get(
        "STRIPE_CONNECT_RETURN_URL", "https://app.choice-and-control.example/stripe/return"
    )
    STRIPE_CONNECT_REFRESH_URL = os.environ.get(
        "STRIPE_CONNECT_REFRESH_URL", "https://app.choice-and-control.example/stripe/refresh"
    )
    # Retrying payments whose outcome is unknown: doubling from the base, up to the max.
    PAYMENT_RETRY_BASE_SECONDS = _env_int("PAYMENT_RETRY_BASE_SECONDS", 30)
    PAYMENT_RETRY_MAX_SECONDS = _env_int("PAYMENT_RETRY_MAX_SECONDS", 3600)
    PAYMENT_LEASE_SECONDS = _env_int("PAYMENT_LEASE_SECONDS", 120)

    @classmethod
    def database_url(cls, instance_path: str) -> str:
        if cls.DATABASE_URL:
            return cls.DATABASE_URL
        return f"sqlite:///{os.path.join(instance_path, 'choice_and_control.db')}"

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        """Raise ConfigurationError when the settings cannot run safely."""


class DevelopmentConfig(BaseConfig):
    """Local development: throwaway secrets, SQLite in the instance folder by default."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)


class TestingConfig(BaseConfig):
    """The test suite: a fixed secret so cursors and signatures are reproducible."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-secret-key-not-for-any-real-deployment"  # noqa: S105
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
    # Every test signs in from 127.0.0.1; the throttle has its own test with a low limit.
    LOGIN_RATE_LIMIT = "100000 per minute"
    # One process-wide counter would make unrelated tests throttle each other; the
    # rate-limit tests switch it on for their own app.
    RATELIMIT_ENABLED = False
    # Every fast dump (app/fast_dump.py) is checked against marshmallow's own.
    FAST_DUMP_CHECK = True


class ProductionConfig(BaseConfig):
    """Production: every secret must be set, and none may be a placeholder."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        for name in REQUIRED_PRODUCTION_SECRETS:
            value = settings.get(name)
            if not value:
                raise ConfigurationError(f"{name} must be set in production")
            if name == "SECRET_KEY":
                lowered = str(value).lower()
                if len(str(value)) < 32 or any(m in lowered for m in PLACEHOLDER_MARKERS):
                    raise ConfigurationError(
                        "SECRET_KEY looks like a placeholder or is shorter than 32 characters"
                    )
        if str(settings.get("DATABASE_URL", "")).startswith("sqlite"):
            raise ConfigurationError("DATABASE_URL must point at PostgreSQL in production")
        # Links in emails and the OAuth issuer must never come from a request's Host header.
        if not str(settings.get("PUBLIC_BASE_URL") or "").startswith("https://"):
            raise ConfigurationError(
                "PUBLIC_BASE_URL must be the API's https address in production"
            )
        # Payments are off until a Stripe key is set; once it is, the webhook secret must be.
        stripe_key = settings.get("STRIPE_SECRET_KEY")
        if stripe_key:
            if not str(stripe_key).startswith(("sk_live_", "rk_live_", "sk_test_", "rk_test_")):
                raise ConfigurationError("STRIPE_SECRET_KEY is not a Stripe secret key")
            if not str(settings.get("STRIPE_WEBHOOK_SECRET") or "").startswith("whsec_"):
                raise ConfigurationError(
                    "STRIPE_WEBHOOK_SECRET must be set (whsec_...) when STRIPE_SECRET_KEY is"
                )


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[BaseConfig]:
    """The configuration class named by APP_ENV (development when unset)."""
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise ConfigurationError(
            f"APP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}"
        ) from exc
