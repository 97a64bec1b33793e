"""The pages links open in a browser: accept an invitation, forgot password, reset password.

The token travels in the query string (access logs record the path only) and then in a
hidden field; forms are CSRF protected like the sign-in page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain_errors import DomainError, ValidationFailed
from auth.onboarding import links
from auth.onboarding import service as onboarding
from auth.onboarding.routes import RESET_ANSWER
from auth.pages import csrf_ok, render_page

blp = Blueprint("account_pages", __name__, template_folder="../templates")

EXPIRED_PAGE = "This page expired. Please try again."


def _message(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        errors = error.extensions.get("errors", {})
        return " ".join(m for messages in errors.values() for m in messages) or str(error.detail)
    return str(error.detail or error.title)


@blp.route("/accounts/invitation", methods=["GET", "POST"])
def accept_invitation() -> ResponseReturnValue:
    """Choose a password to open the invited account."""
    token = request.values.get("token", "")
    session = get_session()
    try:
        invitation = onboarding.find_open_invitation(session, token=token)
    except DomainError as error:
        return render_page("auth/message.html", 404, heading="Invitation", text=_message(error))
    context: dict[str, Any] = {
        "token": token,
        "display_name": invitation.display_name,
        "email": invitation.email,
    }
    if request.method == "GET":
        return render_page("auth/accept_invitation.html", **context)
    if not csrf_ok():
        return render_page("auth/accept_invitation.html", 400, message=EXPIRED_PAGE, **context)
    if request.form.get("password") != request.form.get("password_again"):
        return render_page(
            "auth/accept_invitation.html", 400, message="The passwords do not match.", **context
        )
    try:
        onboarding.accept_invitation(session, token=token, password=request.form["password"])
    except DomainError as error:
        return render_page("auth/accept_invitation.html", 400, message=_message(error), **context)
    return render_page(
        "auth/message.html",
        heading="Your account is ready",
        text="You can now sign in to the Choice and Control app with your email and password.",
    )


@blp.route("/accounts/forgot-password", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer never says whether the email has an account."""
    if request.method == "GET":
        return render_page("auth/forgot_password.html")
    if not csrf_ok():
        return render_page("auth/forgot_password.html", 400, message=EXPIRED_PAGE)
    link = onboarding.request_password_reset(
        get_session(),
        email=request.form.get("email", ""),
        lifetime_seconds=int(current_app.config["PASSWORD_RESET_LIFETIME_SECONDS"]),
    )
    if link is not None:
        links.email_reset(link)
    return render_page("auth/message.html", heading="Check your email", text=RESET_ANSWER)


@blp.route("/accounts/reset-password", methods=["GET", "POST"])
def reset_password() -> ResponseReturnValue:
    """Choose a new password from a reset link."""
    token = request.values.get("token", "")
    session = get_session()
    try:
        onboarding.find_open_reset(session, token=token)
    except DomainError as error:
        return render_page("auth/message.html", 404, heading="Reset link", text=_message(error))
    if request.method == "GET":
        return render_page("auth/reset_password.html", token=token)
    if not csrf_ok():
        return render_page("auth/reset_password.html", 400, token=token, message=EXPIRED_PAGE)
    if request.form.get("password") != request.form.get("password_again"):
        return render_page(
            "auth/reset_password.html", 400, token=token, message="The passwords do not match."
        )
    try:
        onboarding.reset_password(session, token=token, password=request.form["password"])
    except DomainError as error:
        return render_page("auth/reset_password.html", 400, token=token, message=_message(error))
    return render_page(
        "auth/message.html",
        heading="Password changed",
        text="Sign in again with your new password. You have been signed out everywhere else.",
    )
