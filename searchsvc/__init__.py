"""searchsvc: self-hosted full-text and faceted search for news articles."""

__version__ = "0.1.0"
