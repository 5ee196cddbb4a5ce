"""The archive: SQLite schema, loading, full-text search, Datasette metadata, CLI."""
from .db import ensure_db_shape, open_db  # noqa: F401
