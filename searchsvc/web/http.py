"""HTTP caching (ETag per index generation and URL), CORS for the API, and the security headers
every response carries (pages, API answers, errors and static files alike)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, make_response, request

from searchsvc import __version__
from searchsvc.web.state import service, settings

CORS_METHODS = "GET, HEAD, OPTIONS"
CORS_MAX_AGE = "600"
# what a cross-origin caller of the API may send: revalidation, and the admin token
CORS_HEADERS = "Accept, Content-Type, If-None-Match, Authorization, X-Admin-Token"
# the page's own script and style only (no inline script, style or handler: see static/)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def etag_for(generation: str) -> str:
    """A tag that changes with the index generation, the full URL and the code version."""
    text = "\n".join((__version__, generation, request.path, request.query_string.decode("latin-1")))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def conditional(view: Callable | None = None, *, extra: Callable[[], str] | None = None) -> Callable:
    """Answer 304 when If-None-Match names the current tag; tag successful answers otherwise.

    The tag is checked before the view runs, so a revalidation costs no search. ``extra`` adds
    what else the answer shows (such as the re-index status) to the tag. When the index switches
    generation while the view runs, the answer may come from the newer one: it gets no tag and
    ``Cache-Control: no-store`` rather than a tag naming the older one.
    """
    if view is None:
        return lambda inner: conditional(inner, extra=extra)

    @wraps(view)
    def wrapper(*args, **kwargs):
        generation = service().generation
        tag = etag_for(generation if extra is None else f"{generation}\n{extra()}")
        if request.if_none_match.contains_weak(tag):
            response = Response(status=304)
        else:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            if service().generation != generation:
                return no_store(response)
        response.set_etag(tag)
        response.headers["Cache-Control"] = "no-cache"
        return response

    return wrapper


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _cors(response: Response) -> Response:
    origins = settings().cors_origins
    if not origins or not request.path.startswith("/api/"):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or not ("*" in origins or origin in origins):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS  # a fixed list, never an echo
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def register(app: Flask) -> None:
    app.after_request(_cors)
    app.after_request(_security_headers)
