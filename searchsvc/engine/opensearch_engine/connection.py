"""The cluster connection: an opensearch-py client made from the settings (hosts, credentials,
TLS, timeouts, retries across hosts), and the translation of its errors into searchsvc's own."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from searchsvc.errors import ConfigError, EngineUnavailable, IndexNotFoundError, QueryError

# Each request is tried on up to this many further nodes (a node that fails is marked dead for a
# while and the next one is tried): what keeps searches answering while a node is down.
RETRIES = 3
RETRY_STATUSES = (502, 503, 504)


def hosts_of(urls: tuple[str, ...] | str) -> list[str]:
    """The cluster's node URLs, checked: each http(s)://host[:port] (a path prefix is allowed)."""
    if isinstance(urls, str):
        urls = tuple(part.strip() for part in urls.split(",") if part.strip())
    if not urls:
        raise ConfigError(
            "Setting opensearch_url is empty: give the URL of at least one node, e.g. http://127.0.0.1:9200."
        )
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"Setting opensearch_url has {url!r}, which is not an http(s) URL of a node "
                "(e.g. http://127.0.0.1:9200 or https://search.example:9200)."
            )
    return list(urls)


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def shared_client(settings):
    """The process's client for the cluster in ``settings``: one per distinct connection setting,
    shared by every engine and builder of the process (its connection pools are reused, and
    never left for the garbage collector to close)."""
    key = (
        tuple(hosts_of(settings.opensearch_url)),
        settings.opensearch_user,
        settings.opensearch_password,
        settings.opensearch_ca_certs,
        settings.opensearch_verify_certs,
        settings.opensearch_timeout,
        os.getpid(),  # a forked worker opens its own connections
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(settings)
        return client


def make_client(settings):
    """A client for the cluster in ``settings`` (opensearch_url, _user, _password, _ca_certs,
    _verify_certs, _timeout). It spreads requests over the nodes and retries a failed request
    on another node; it does not sniff (the nodes listed are the ones it may reach)."""
    from opensearchpy import OpenSearch

    options: dict = {
        "hosts": hosts_of(settings.opensearch_url),
        "timeout": settings.opensearch_timeout,
        "max_retries": RETRIES,
        "retry_on_timeout": True,
        "retry_on_status": RETRY_STATUSES,
        "http_compress": False,
    }
    if settings.opensearch_user:
        options["http_auth"] = (settings.opensearch_user, settings.opensearch_password)
    if any(url.startswith("https:") for url in options["hosts"]):
        options["use_ssl"] = True
        options["verify_certs"] = settings.opensearch_verify_certs
        options["ssl_show_warn"] = settings.opensearch_verify_certs
        if settings.opensearch_ca_certs:
            options["ca_certs"] = settings.opensearch_ca_certs
    return OpenSearch(**options)


def where(settings) -> str:
    urls = settings.opensearch_url
    return urls if isinstance(urls, str) else ", ".join(urls)


@contextmanager
def cluster_errors(settings, doing: str, index: str | None = None) -> Iterator[None]:
    """Turn the client's exceptions into EngineUnavailable / IndexNotFoundError / QueryError whose
    messages say which cluster, what was being done and what to do next."""
    from opensearchpy import exceptions as os_errors

    try:
        yield
    except os_errors.AuthenticationException:
        raise EngineUnavailable(
            f"The OpenSearch cluster at {where(settings)} refused the credentials while {doing}. "
            "Check the opensearch_user and opensearch_password settings."
        ) from None
    except os_errors.AuthorizationException as exc:
        raise EngineUnavailable(
            f"The OpenSearch cluster at {where(settings)} does not allow {doing} for this user "
            f"({_reason(exc)}). Grant the user access to the {settings.opensearch_index_prefix}* indexes."
        ) from None
    except os_errors.NotFoundError as exc:
        if index is not None and _reason_type(exc) in ("index_not_found_exception", "aliases_not_found_exception"):
            raise IndexNotFoundError(
                index,
                f"No index {index} on the OpenSearch cluster at {where(settings)}. "
                f"Run 'searchsvc index SOURCE' with engine = opensearch first.",
            ) from None
        raise EngineUnavailable(
            f"OpenSearch at {where(settings)} found nothing while {doing}: {_reason(exc)}."
        ) from None
    except os_errors.ConnectionTimeout:
        raise EngineUnavailable(
            f"The OpenSearch cluster at {where(settings)} did not answer within {settings.opensearch_timeout:g} s "
            f"while {doing}. Check the cluster's health, or raise opensearch_timeout."
        ) from None
    except os_errors.SSLError as exc:
        raise EngineUnavailable(
            f"TLS with the OpenSearch cluster at {where(settings)} failed while {doing} ({exc.info or exc}). "
            "Check opensearch_ca_certs (the CA that signed the cluster's certificate)."
        ) from None
    except os_errors.ConnectionError:
        raise EngineUnavailable(
            f"Cannot reach the OpenSearch cluster at {where(settings)} while {doing}. "
            "Start it (scripts/opensearch-node starts a local node) or fix opensearch_url."
        ) from None
    except os_errors.RequestError as exc:
        if _reason_type(exc) in ("search_phase_execution_exception", "parsing_exception", "query_shard_exception"):
            raise QueryError(
                f"OpenSearch could not run this search: {_reason(exc)}. Simplify the query.", "q"
            ) from None
        raise EngineUnavailable(
            f"OpenSearch at {where(settings)} rejected a request while {doing}: {_reason(exc)}."
        ) from None
    except os_errors.TransportError as exc:
        raise EngineUnavailable(
            f"The OpenSearch cluster at {where(settings)} failed while {doing} (HTTP {exc.status_code}: "
            f"{_reason(exc)}). Check the cluster's health ('GET _cluster/health')."
        ) from None


def _error_body(exc) -> dict:
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        return info["error"]
    return {}


def _reason_type(exc) -> str:
    return str(_error_body(exc).get("type", ""))


def _reason(exc) -> str:
    body = _error_body(exc)
    causes = body.get("root_cause") or []
    first = causes[0] if causes and isinstance(causes[0], dict) else body
    reason = first.get("reason") or body.get("reason") or getattr(exc, "error", "") or str(exc)
    return str(reason)[:500]


class Cluster:
    """The client and the names of one prefix on one cluster, with its settings for messages."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.prefix = settings.opensearch_index_prefix
        if not self.prefix or self.prefix != self.prefix.lower() or self.prefix.startswith(("-", "_", ".")):
            raise ConfigError(
                "Setting opensearch_index_prefix must be lower-case and start with a letter or digit; "
                f"got {self.prefix!r}."
            )
        self.client = shared_client(settings)

    def errors(self, doing: str, index: str | None = None):
        return cluster_errors(self.settings, doing, index)

    def close(self) -> None:
        """Nothing to release: the client is the process's, shared (see shared_client)."""


# A search that meets a node leaving the cluster mid-request is tried once more: OpenSearch moves
# the query phase to another copy of a shard itself, but not a fetch phase already sent to the
# node that left (it answers 500 "... disconnected"), nor shards that failed outright.
SEARCH_ATTEMPTS = 2
_NODE_LOSS = ("disconnected", "node_not_connected", "node_disconnected", "nodenotconnected", "connecttransport")


def lost_a_node(exc) -> bool:
    """Whether a TransportError says a node dropped out while answering (a search can be repeated)."""
    text = (str(getattr(exc, "info", "")) + " " + str(getattr(exc, "error", ""))).lower().replace(" ", "")
    return getattr(exc, "status_code", None) == 500 and any(word in text for word in _NODE_LOSS)


def search_all_shards(cluster: Cluster, index: str, body: dict, request_timeout: float, doing: str) -> dict:
    """A search answered by every shard: repeated once when a node left mid-search or a shard
    failed; still partial after that, it is an EngineUnavailable (never a quietly lower total)."""
    from opensearchpy import exceptions as os_errors

    with cluster.errors(doing, index):
        for attempt in range(1, SEARCH_ATTEMPTS + 1):
            try:
                response = cluster.client.search(index=index, body=body, request_timeout=request_timeout)
            except os_errors.TransportError as exc:
                if attempt < SEARCH_ATTEMPTS and lost_a_node(exc):
                    continue
                raise
            shards = response.get("_shards") or {}
            if not shards.get("failed"):
                return response
            if attempt == SEARCH_ATTEMPTS:
                raise EngineUnavailable(
                    f"Only {shards.get('successful', 0)} of {shards.get('total', 0)} shards of {index} answered "
                    f"while {doing} on the OpenSearch cluster at {where(cluster.settings)}; the answer would "
                    "miss articles. Check the cluster's health ('GET _cluster/health')."
                )
    raise AssertionError("unreachable")
