"""Error responses: one JSON shape under /api (and /healthz, /readyz), plain text for the Atom
feed (a feed reader shows text, not a page), the site's look elsewhere.

``{"ok": false, "status": 400, "error": "message", "errors": [{"parameter": "page", "message": ...}]}``
"""

from __future__ import annotations

import logging
from html import escape

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from searchsvc.errors import EngineUnavailable, IndexNotFoundError, QueryError

log = logging.getLogger("searchsvc.web")

JSON_PREFIXES = ("/api/", "/healthz", "/readyz")
PLAIN_TEXT_PATHS = ("/search.atom",)
GENERIC_500 = "The server failed to answer this request. It has been logged; try again later."
TITLES = {
    400: "That search could not be run",
    404: "Page not found",
    405: "Method not allowed",
    500: "Something went wrong",
    503: "Search is not ready",
}


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path == "/api"


def error_body(status: int, message: str, parameter: str | None = None) -> dict:
    errors = [{"parameter": parameter, "message": message}] if parameter else []
    return {"ok": False, "status": status, "error": message, "errors": errors}


def error_response(status: int, message: str, parameter: str | None = None, headers=None) -> Response:
    if wants_json():
        response = jsonify(error_body(status, message, parameter))
    elif request.path in PLAIN_TEXT_PATHS:
        response = Response(f"{TITLES.get(status, 'Error')}: {message}\n", mimetype="text/plain")
    else:
        title = TITLES.get(status, "Error")
        try:
            html = render_template("error.html", status=status, title=title, message=message, parameter=parameter)
        except Exception:  # the error page itself must not fail
            log.exception("Cannot render the error page for %s", status)
            html = f"<!doctype html><title>{status}</title><p>{escape(message)}</p>"
        response = Response(html, mimetype="text/html")
    response.status_code = status
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _query_error(exc: QueryError) -> Response:
    return error_response(400, str(exc), exc.parameter)


def _no_index(exc: IndexNotFoundError | EngineUnavailable) -> Response:
    return error_response(503, str(exc), headers=[("Retry-After", "5")])


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if exc.description and exc.description != type(exc).description:
        message = exc.description  # raised on purpose with a message of its own
    elif status == 404:
        message = f"Nothing at {request.path}. Check the address, or start again from the search page at /."
    elif status == 405:
        allowed = exc.valid_methods if hasattr(exc, "valid_methods") else None
        message = f"{request.method} is not allowed on {request.path}" + (
            f"; use {', '.join(sorted(allowed))}." if allowed else "."
        )
    else:
        message = exc.description or exc.name
    return error_response(status, message, headers=exc.get_headers())


def _unexpected(exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.full_path)
    return error_response(500, GENERIC_500)


def register(app: Flask) -> None:
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(IndexNotFoundError, _no_index)
    app.register_error_handler(EngineUnavailable, _no_index)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
