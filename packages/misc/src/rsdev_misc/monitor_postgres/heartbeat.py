"""The optional heartbeat row: one row per monitor instance, upserted on every good probe.

Statements are composed with `psycopg.sql` and run through a client-side cursor, so the
values are quoted by psycopg and sent with the simple query protocol (pooler-safe).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

__all__ = ["Heartbeat"]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Upsert ``(id, ts, host, pid)`` into `table` (``name`` or ``schema.name``)."""

    table: str
    row_id: str
    host: str
    pid: int

    def __post_init__(self) -> None:
        parts = self.table.split(".")
        if len(parts) > 2 or not all(parts):
            raise ValueError(f"heartbeat table {self.table!r} is not NAME or SCHEMA.NAME")

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(*self.table.split("."))

    def create(self) -> sql.Composed:
        """Create the table when it is missing (run once per connection)."""
        return sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "id text PRIMARY KEY, ts timestamptz NOT NULL, host text, pid integer)"
        ).format(self.identifier)

    def upsert(self) -> sql.Composed:
        """Insert or refresh this instance's row; `ts` is the server's now()."""
        return sql.SQL(
            "INSERT INTO {} (id, ts, host, pid) VALUES ({}, now(), {}, {}) "
            "ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts, host = EXCLUDED.host, "
            "pid = EXCLUDED.pid"
        ).format(
            self.identifier, sql.Literal(self.row_id), sql.Literal(self.host), sql.Literal(self.pid)
        )
