"""Roles and the scopes each role may be granted.

A token's scopes are what the client asked for, cut down to what the user's roles allow.
Endpoints check both: the scope (403 `insufficient-scope`) and, for functions a role never
has, the role (403 `forbidden`). Object-level access is separate: see `auth.access`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PERSON = "person"
    REPRESENTATIVE = "representative"
    BROKER = "broker"
    PROVIDER_STAFF = "provider_staff"
    ADMIN = "admin"


class Scope(StrEnum):
    PROFILE = "profile"
    BUDGETS_READ = "budgets:read"
    BUDGETS_MANAGE = "budgets:manage"
    PLANS_WRITE = "plans:write"
    PLANS_APPROVE = "plans:approve"
    PROVIDERS_READ = "providers:read"
    PROVIDERS_MANAGE = "providers:manage"
    PROVIDERS_VERIFY = "providers:verify"
    BOOKINGS_WRITE = "bookings:write"
    BOOKINGS_MANAGE = "bookings:manage"
    PAYMENTS_MANAGE = "payments:manage"
    EMPLOYMENT_READ = "employment:read"
    EMPLOYMENT_WRITE = "employment:write"
    EMPLOYMENT_MANAGE = "employment:manage"
    NOTIFICATIONS = "notifications"
    ACCOUNTS_MANAGE = "accounts:manage"
    AUDIT_READ = "audit:read"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.PROFILE: "See who you are signed in as",
    Scope.BUDGETS_READ: "See budgets, balances, statements and plans",
    Scope.BUDGETS_MANAGE: "Allocate, adjust, suspend and end budgets",
    Scope.PLANS_WRITE: "Write and submit care and support plans",
    Scope.PLANS_APPROVE: "Approve, decline or request changes to plans",
    Scope.PROVIDERS_READ: "Search providers and their offers",
    Scope.PROVIDERS_MANAGE: "Manage your provider organisation and its offers",
    Scope.PROVIDERS_VERIFY: "Verify, reject or suspend provider organisations",
    Scope.BOOKINGS_WRITE: "Book services and confirm or dispute deliveries",
    Scope.BOOKINGS_MANAGE: "Accept bookings and record deliveries for your organisation",
    Scope.PAYMENTS_MANAGE: "Pay providers and record refunds",
    Scope.EMPLOYMENT_READ: "See employment support records",
    Scope.EMPLOYMENT_WRITE: "Join an employment scheme and follow your job search",
    Scope.EMPLOYMENT_MANAGE: "Run an IPS employment service",
    Scope.NOTIFICATIONS: "Receive notifications on your devices",
    Scope.ACCOUNTS_MANAGE: "Invite and manage user accounts",
    Scope.AUDIT_READ: "Search the audit log",
}

_PERSON_SCOPES = frozenset(
    {
        Scope.PROFILE,
        Scope.BUDGETS_READ,
        Scope.PLANS_WRITE,
        Scope.PROVIDERS_READ,
        Scope.BOOKINGS_WRITE,
        Scope.EMPLOYMENT_READ,
        Scope.EMPLOYMENT_WRITE,
        Scope.NOTIFICATIONS,
    }
)

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.PERSON: _PERSON_SCOPES,
    Role.REPRESENTATIVE: _PERSON_SCOPES,
    Role.BROKER: frozenset(
        {
            Scope.PROFILE,
            Scope.BUDGETS_READ,
            Scope.PLANS_WRITE,
            Scope.PLANS_APPROVE,
            Scope.PROVIDERS_READ,
            Scope.BOOKINGS_WRITE,
            Scope.EMPLOYMENT_READ,
            Scope.EMPLOYMENT_WRITE,
            Scope.NOTIFICATIONS,
        }
    ),
    Role.PROVIDER_STAFF: frozenset(
        {
            Scope.PROFILE,
            Scope.PROVIDERS_READ,
            Scope.PROVIDERS_MANAGE,
            Scope.BOOKINGS_MANAGE,
            Scope.EMPLOYMENT_MANAGE,
            Scope.NOTIFICATIONS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Scope.PROFILE,
            Scope.BUDGETS_READ,
            Scope.BUDGETS_MANAGE,
            Scope.PROVIDERS_READ,
            Scope.PROVIDERS_VERIFY,
            Scope.PAYMENTS_MANAGE,
            Scope.EMPLOYMENT_READ,
            Scope.ACCOUNTS_MANAGE,
            Scope.AUDIT_READ,
            Scope.NOTIFICATIONS,
        }
    ),
}

# What a provider's back-office system may do with the client credentials grant.
BACK_OFFICE_SCOPES = frozenset(
    {Scope.PROVIDERS_READ, Scope.PROVIDERS_MANAGE, Scope.BOOKINGS_MANAGE, Scope.EMPLOYMENT_MANAGE}
)


def scopes_for_roles(roles: set[str] | frozenset[str]) -> frozenset[str]:
    """Every scope any of the given roles may be granted."""
    allowed: set[str] = set()
    for role in roles:
        allowed |= {str(s) for s in ROLE_SCOPES.get(Role(role), frozenset())}
    return frozenset(allowed)
