"""Request ids and structured logs.

Every response carries `X-Request-ID` (the caller's, if it sent a sane one, otherwise a
new one). Logs are JSON lines carrying that id, so one request can be followed from the
access line to any error it raised. Bodies, tokens and query strings are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context

from app.request_context import current_request_id
from app.request_locals import current_request, request_globals

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON_KEY = "HTTP_X_REQUEST_ID"  # the header as WSGI names it
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = logging.getLogger("app.access")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        for key, value in vars(record).items():
            if key not in self.RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonLineFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonLineFormatter()
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _assign_request_id() -> None:
    incoming = current_request().environ.get(_REQUEST_ID_ENVIRON_KEY, "")
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else os.urandom(16).hex()
    globals_ = request_globals()
    globals_.request_id = request_id
    globals_.request_started = time.perf_counter()
    current_request_id.set(request_id)  # for services, which do not import Flask


def _log_and_tag(response: Response) -> Response:
    globals_, request_ = request_globals(), current_request()
    response.headers[REQUEST_ID_HEADER] = globals_.get("request_id", "")
    started = globals_.get("request_started")
    actor = globals_.get("actor")
    access_log.info(
        "request",
        extra={
            "method": request_.method,
            "path": request_.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "user_id": getattr(actor, "user_id", None),
            "client_id": getattr(actor, "client_id", None),
        },
    )
    return response


def init_observability(app: Flask) -> None:
    """Install request-id assignment and the access log."""
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    app.before_request(_assign_request_id)
    app.after_request(_log_and_tag)
