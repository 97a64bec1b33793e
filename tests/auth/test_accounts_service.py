"""`add_user_with_password`, the one way every package opens a login, and sign-in checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import Conflict, ValidationFailed
from auth.roles import Role
from auth.service import add_user_with_password, authenticate_login

PASSWORD = "long-enough-password"


def _login(session: Session, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return authenticate_login(
        session, email=email, password=password, max_failures=3, lockout_seconds=60
    )


def test_adds_a_login_with_an_argon2_hash(db_session: Session) -> None:
    user = add_user_with_password(
        db_session,
        email="  Owner@Example.ORG ",
        display_name=" Sam ",
        password=PASSWORD,
        roles=[Role.PROVIDER_STAFF],
    )
    assert user.email == "owner@example.org"
    assert user.display_name == "Sam"
    assert user.roles == {"provider_staff"}
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert _login(db_session, "OWNER@example.org") == user


def test_refuses_a_duplicate_email_in_any_case(db_session: Session) -> None:
    add_user_with_password(
        db_session, email="a@example.org", display_name="A", password=PASSWORD, roles=["person"]
    )
    with pytest.raises(Conflict):
        add_user_with_password(
            db_session, email="A@EXAMPLE.org", display_name="A", password=PASSWORD, roles=[]
        )


def test_refuses_a_short_password(db_session: Session) -> None:
    with pytest.raises(ValidationFailed):
        add_user_with_password(
            db_session, email="b@example.org", display_name="B", password="short", roles=[]
        )


def test_lockout_then_unlock_after_the_period(db_session: Session) -> None:
    user = add_user_with_password(
        db_session, email="c@example.org", display_name="C", password=PASSWORD, roles=["broker"]
    )
    for _ in range(3):
        assert _login(db_session, user.email, "wrong-password") is None
    assert user.locked_until is not None
    assert _login(db_session, user.email) is None  # right password, still locked
    user.locked_until = utcnow() - timedelta(seconds=1)
    assert _login(db_session, user.email) == user
    assert user.failed_login_count == 0 and user.locked_until is None
