"""ETags on reads and If-Match on updates.

Reads: every successful GET gets an ETag (the representation's hash, unless the route set
a version tag; see app/versioning.py), and `If-None-Match` turns a match into 304.
Updates: versioned records carry a `version` number; their ETag is derived from it, and
an update must send it in `If-Match` (428 if absent, 412 if stale), checked by the
service under a row lock.
"""

from __future__ import annotations

from flask import Flask, Response, request

from app.request_locals import current_request


def if_match_tags() -> list[str] | None:
    """The ETags sent in If-Match, ["*"] for any, or None when the header is absent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _conditional_get(response: Response) -> Response:
    request_now = current_request()
    if request_now.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if response.direct_passthrough or not response.is_json:
        return response
    if "ETag" not in response.headers:
        response.add_etag()
    environ = request_now.environ
    if not any(header in environ for header in _CONDITIONAL_HEADERS):
        return response  # nothing to evaluate: the common case, kept cheap
    had_date = "Date" in response.headers
    response.make_conditional(request_now)
    if not had_date:
        # werkzeug adds a Date, and the server (gunicorn, werkzeug's) sends its own: a
        # response must carry one Date only.
        del response.headers["Date"]
    return response


_CONDITIONAL_HEADERS = frozenset(
    {"HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE"}
)


def init_etags(app: Flask) -> None:
    """Give every JSON GET an ETag and answer If-None-Match with 304."""
    app.after_request(_conditional_get)
