"""``/metrics`` in the Prometheus text format (prometheus-client), and the HTTP request metrics.

Under ``searchsvc serve`` every process writes its counters and histograms to files in
``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder per server run, see searchsvc.serve), and a scrape,
whichever worker answers it, adds up the files of all of them (prometheus-client's multiprocess
mode). Without that variable (the Flask test client, ``waitress-serve --call``) the metrics live
in this process's default registry.

The index gauges are not stored at all: each scrape reads them from the view the answering
process serves, so no gauge mode (``livemax``, ``liveall``...) has to guess which worker's
stored value is current, and a worker that last looked before a re-index cannot report a stale
generation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from searchsvc.errors import SearchsvcError

# the classic text format generate_latest() writes (prometheus-client's CONTENT_TYPE_LATEST names
# version 1.0.0 from 0.22 on, a format this endpoint does not negotiate)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# label values come from fixed sets only: a client cannot add series by sending odd requests
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"

REQUESTS = Counter(
    "searchsvc_http_requests",
    "HTTP requests answered, by route (the URL rule, 'other' when none matched), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "searchsvc_http_request_duration_seconds",
    "Time to answer an HTTP request, by route, in seconds.",
    ["route"],
)

blueprint = Blueprint("metrics", __name__)


class IndexCollector:
    """``searchsvc_index_documents`` and ``searchsvc_index_info`` of the view being served."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        engine = self.app.extensions["searchsvc.service"].engine
        try:
            view = engine.view()
            name, documents = view.name, view.documents
        except SearchsvcError:  # no index yet, or the cluster is down: /readyz says which
            return
        yield GaugeMetricFamily("searchsvc_index_documents", "Documents in the index being served.", value=documents)
        info = GaugeMetricFamily(
            "searchsvc_index_info",
            "The index being served: engine and generation (always 1).",
            labels=["engine", "generation"],
        )
        info.add_metric([engine.name, name], 1)
        yield info


class DefaultRegistry:
    """This process's default registry, as one collector of the scrape's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(app: Flask) -> CollectorRegistry:
    """What one scrape reports: every process's metrics (or this one's), then the index gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)
    else:
        registry.register(DefaultRegistry())
    registry.register(IndexCollector(app))
    return registry


@blueprint.get("/metrics")
def metrics() -> Response:
    body = generate_latest(scrape_registry(current_app._get_current_object()))
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def route_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else OTHER


def _start_timer() -> None:
    g.searchsvc_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("searchsvc_started", None)
    route = route_label()
    method = request.method if request.method in METHODS else OTHER
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    if started is not None:
        REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)
    return response


def register(app: Flask) -> None:
    """Serve /metrics and count every request (errors and /metrics itself included)."""
    app.register_blueprint(blueprint)
    app.before_request(_start_timer)
    app.after_request(_count)
