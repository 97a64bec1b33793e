"""Sending account emails (invitations, password resets) over SMTP, when configured.

Called after the use case has committed, never inside a transaction (a slow mail server
must not hold database locks). Without SMTP_HOST nothing is sent and the caller says so.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)


def send_email(config: Mapping[str, Any], *, to: str, subject: str, body: str) -> bool:
    """Send a plain-text email; True if it was handed to the SMTP server."""
    host = config.get("SMTP_HOST")
    if not host:
        return False
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(host, int(config.get("SMTP_PORT") or 587), timeout=10) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("email not sent", extra={"error": type(exc).__name__})
        return False
    return True
