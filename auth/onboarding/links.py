"""Building and emailing the links onboarding hands out (after the use case commits)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app

from auth.mail import send_email
from auth.onboarding.service import IssuedLink
from auth.pages import public_base_url


def invitation_url(link: IssuedLink) -> str:
    return f"{public_base_url()}/accounts/invitation?{urlencode({'token': link.token})}"


def reset_url(link: IssuedLink) -> str:
    return f"{public_base_url()}/accounts/reset-password?{urlencode({'token': link.token})}"


def email_invitation(link: IssuedLink, *, display_name: str) -> bool:
    """Email the invitation link; False when SMTP is not configured or failed."""
    return send_email(
        current_app.config,
        to=link.email,
        subject="You are invited to Choice and Control",
        body=(
            f"Hello {display_name},\n\nYou have been invited to Choice and Control. "
            f"Open this link to choose your password:\n\n{invitation_url(link)}\n\n"
            "The link works once and expires in a few days.\n"
        ),
    )


def email_reset(link: IssuedLink) -> bool:
    """Email the password reset link; False when SMTP is not configured or failed."""
    return send_email(
        current_app.config,
        to=link.email,
        subject="Reset your Choice and Control password",
        body=(
            "Someone (hopefully you) asked to reset your password. Open this link to choose "
            f"a new one:\n\n{reset_url(link)}\n\nIt works once and expires soon. If it was "
            "not you, ignore this email.\n"
        ),
    )
