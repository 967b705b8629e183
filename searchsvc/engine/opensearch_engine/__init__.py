"""The OpenSearch engine: the engine interface on an OpenSearch cluster (``engine = "opensearch"``).

Every published state of the index is one OpenSearch index, ``<prefix>-g<timestamp>``; the alias
``<prefix>`` names the one readers get, and a build moves it in one atomic call. A view is the
concrete index a request took from the alias, so a request never mixes two of them. The state the
indexer keeps beside a view (its file records and report) is a document of ``<prefix>-state``.
"""
