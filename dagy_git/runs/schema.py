"""The runs store's schema: ordered migrations, applied once each, on open.

The schema version is SQLite's `PRAGMA user_version`: migration N brings a database from
version N-1 to N. Migrations are append-only; a released one never changes (a new column or
index is a new migration), and a database newer than this dagy-git is refused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dagy_git.errors import DagyError

__all__ = ["MIGRATIONS", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, task runs, schedule cursors
    """
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        flow_name TEXT NOT NULL,
        flow_version TEXT NOT NULL,
        deployment_name TEXT,
        deployment_version INTEGER,
        code_hash TEXT,
        namespace TEXT NOT NULL DEFAULT '',
        parameters TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'registry',
        scheduled_for TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT,
        error TEXT,
        log TEXT NOT NULL DEFAULT '',
        owner_host TEXT,
        owner_pid INTEGER,
        owner_token TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_flow ON runs (flow_name, seq);
    CREATE INDEX runs_by_version ON runs (flow_name, flow_version, seq);
    CREATE INDEX runs_by_deployment ON runs (deployment_name, seq);
    CREATE INDEX runs_by_state ON runs (state, seq);
    CREATE INDEX runs_by_time ON runs (created_at);
    -- what `reap` reads on every access: small however many finished runs there are
    CREATE INDEX runs_live ON runs (state) WHERE state IN ('SCHEDULED', 'PENDING', 'RUNNING');
    -- one run per deployment and scheduled time, however many workers race for it
    CREATE UNIQUE INDEX runs_one_per_slot ON runs (deployment_name, scheduled_for)
        WHERE scheduled_for IS NOT NULL;
    CREATE TABLE task_runs (
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        task_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        ended_at TEXT,
        error TEXT,
        position INTEGER NOT NULL,
        PRIMARY KEY (run_id, task_id)
    );
    CREATE TABLE schedule_cursors (
        deployment_name TEXT PRIMARY KEY,
        last_slot TEXT NOT NULL
    );
    """,
)


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations `db` lacks (inside the caller's write transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise DagyError(
            f"the runs store {path} has schema {version}; this dagy-git knows "
            f"up to {len(MIGRATIONS)}",
            hint="upgrade dagy-git",
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")
