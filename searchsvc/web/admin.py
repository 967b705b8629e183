"""The admin API: ``POST /api/admin/reindex`` starts a re-index run now.

It is off until the ``admin_token`` setting is set; callers send the token as
``Authorization: Bearer <token>`` or ``X-Admin-Token: <token>``.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from searchsvc.errors import QueryError
from searchsvc.reindex import ReindexRunning
from searchsvc.web.errors import error_response
from searchsvc.web.http import no_store
from searchsvc.web.state import reindexer, settings

blueprint = Blueprint("admin", __name__)

DISABLED = (
    "The admin API is off. Set the admin_token setting (environment variable SEARCHSVC_ADMIN_TOKEN) "
    "to a secret and restart the server to enable POST /api/admin/reindex."
)
NO_TOKEN = "POST /api/admin/reindex needs the admin token: send it as 'Authorization: Bearer <token>'."
WRONG_TOKEN = "The admin token is not the one the server was started with (setting admin_token)."
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def presented_token() -> str | None:
    """The token sent in ``Authorization: Bearer`` or ``X-Admin-Token`` (None when neither)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = request.headers.get("X-Admin-Token", "").strip()
    return token or None


def wanted_full() -> bool:
    """``full`` from the query string or a JSON body ``{"full": true}`` (default: false)."""
    unknown = sorted(set(request.args) - {"full"})
    if unknown:
        raise QueryError(f"Unknown parameter {unknown[0]!r}. Valid parameters: full.", unknown[0])
    values = request.args.getlist("full")
    body = None
    if request.get_data(cache=True).strip():
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise QueryError('The request body must be a JSON object such as {"full": true}, or empty.', "full")
        extra = sorted(set(body) - {"full"})
        if extra:
            raise QueryError(f"Unknown field {extra[0]!r} in the request body. Valid fields: full.", extra[0])
        if "full" in body:
            values.append(body["full"])
    if len(values) > 1:
        raise QueryError(f"Parameter 'full' was given {len(values)} times; give it once.", "full")
    if not values:
        return False
    value = values[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE or not text:
            return False
    raise QueryError(f"Parameter 'full' must be true or false; got {value!r}.", "full")


@blueprint.post("/api/admin/reindex")
def reindex():
    token = settings().admin_token
    if not token:
        return error_response(404, DISABLED)
    presented = presented_token()
    if presented is None:
        return error_response(401, NO_TOKEN, headers=[("WWW-Authenticate", 'Bearer realm="searchsvc"')])
    if not hmac.compare_digest(presented.encode("utf-8"), token.encode("utf-8")):
        return error_response(403, WRONG_TOKEN)
    full = wanted_full()
    try:
        run = reindexer().start(full=full, trigger="api")
    except ReindexRunning as exc:
        return error_response(409, str(exc))
    response = jsonify({"ok": True, "run": {"id": run.id, "full": run.full}})
    response.status_code = 202
    return no_store(response)
