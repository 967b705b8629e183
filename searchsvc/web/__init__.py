"""The web layer: an application factory, the JSON API, the HTML pages and the Atom feed.

Nothing runs at import time, so ``waitress-serve --call searchsvc.web:create_app`` works; each
process (each forked worker too) creates its own app and with it its own engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from searchsvc.config import Settings, load_settings


def create_app(settings: Settings | None = None, test_config: Mapping[str, Any] | None = None) -> Flask:
    """A Flask app serving ``settings`` (default: load_settings()).

    ``test_config`` overrides settings by name (``{"index_dir": ..., "result_cache": 0}``);
    upper-case keys (``TESTING``) go to Flask's own config instead.
    """
    from searchsvc.engine import open_search
    from searchsvc.reindex import Reindexer
    from searchsvc.search import SearchService
    from searchsvc.web import admin, api, errors, http, metrics, views
    from searchsvc.web.export import blueprint as export_blueprint

    overrides = dict(test_config or {})
    flask_config = {key: overrides.pop(key) for key in list(overrides) if key.isupper()}
    settings = (settings or load_settings()).replace(**overrides)

    app = Flask(__name__)
    app.config.update(flask_config)
    # article ids are URLs: /articles/https://host/path must keep its '//'
    app.url_map.merge_slashes = False
    app.url_map.converters["id"] = views.ArticleIdConverter
    app.json.sort_keys = False
    app.extensions["searchsvc.settings"] = settings
    app.extensions["searchsvc.service"] = SearchService(open_search(settings), cache_size=settings.result_cache)
    app.extensions["searchsvc.stats"] = {}  # /api/stats' data, by generation
    # status of re-index runs, and runs started through POST /api/admin/reindex; the schedule
    # itself runs in one process only (see searchsvc.serve)
    app.extensions["searchsvc.reindexer"] = Reindexer(settings)

    app.register_blueprint(api.blueprint)
    app.register_blueprint(export_blueprint)  # /api/export.csv, /api/export.jsonl
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(views.blueprint)
    errors.register(app)
    http.register(app)
    metrics.register(app)  # /metrics, and the count of every request
    views.register_filters(app)
    views.register_context(app)
    return app


__all__ = ["create_app"]
