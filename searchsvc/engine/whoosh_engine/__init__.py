"""The Whoosh engine: the embedded implementation of the engine interface (search.py, builder.py).

Whoosh pickles the schema's classes (by module name) into every index's table of contents, and
indexes written before this package existed name them by their old modules: those names are kept
as aliases, so that such indexes open and take updates.
"""

from __future__ import annotations

import sys

from searchsvc.engine.whoosh_engine import schema, writer

sys.modules.setdefault("searchsvc.engine.schema", schema)
sys.modules.setdefault("searchsvc.engine.whoosh_writer", writer)
