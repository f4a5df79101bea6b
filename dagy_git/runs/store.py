"""The runs store: every run and its task runs in one embedded SQLite database.

Runs are operational data, so they live beside the repository (`.git/dagy/runs.sqlite3` by
default), not on the registry branch. The database runs in WAL mode so a worker, a server
and `dagy-git runs` read and write it at once; its schema (`schema.py`) carries a
version and is brought up to date on open.

A run names the process responsible for it (host, pid and that process's start time): a
run left PENDING or RUNNING by a process that died is marked CRASHED the next time the
store is read, so nothing stays "running" forever.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagy_git.errors import DagyError
from dagy_git.runs.schema import migrate
from dagy_git.runs.types import LIVE_STATES, STATES, RunRecord, TaskRunRecord, now_iso

__all__ = ["LOG_LIMIT", "RunStore", "bounded_log", "process_token"]

LOG_LIMIT = 64 * 1024  # characters of a run's log kept: its tail, where the error is

_RUN_COLUMNS = (
    "run_id, flow_name, flow_version, deployment_name, deployment_version, code_hash, "
    "namespace, parameters, state, source, scheduled_for, created_at, started_at, ended_at, error"
)
_UPDATABLE = {"state", "started_at", "ended_at", "error", "log", "code_hash", "source"}


def process_token(pid: int) -> str | None:
    """When process `pid` started (Linux: clock ticks since boot), or None where unknown.

    With the pid it names one process: a new process that reuses the pid differs.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: fields count from the last `)`.
    return stat.rpartition(")")[2].split()[19]


def _alive(pid: int, token: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return token is None or process_token(pid) in (None, token)


class RunStore:
    """The runs database at `path` (created, and migrated, on open); safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by the threads of a server, serialised by the lock.
            self._db = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise DagyError(f"cannot open the runs store {path}: {exc}") from None
        self._lock = threading.RLock()
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.token = process_token(self.pid)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the database's write lock up front."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as db:
            migrate(db, self.path)

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- writing ----------------------------------------------------------------------

    def create(self, run: RunRecord) -> bool:
        """Insert a new run owned by this process; False when its schedule slot is taken."""
        with self._write() as db:
            cur = db.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}, owner_host, owner_pid, owner_token) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    run.run_id,
                    run.flow_name,
                    run.flow_version,
                    run.deployment_name,
                    run.deployment_version,
                    run.code_hash,
                    run.namespace,
                    json.dumps(run.parameters, sort_keys=True),
                    run.state,
                    run.source,
                    run.scheduled_for,
                    run.created_at,
                    run.started_at,
                    run.ended_at,
                    run.error,
                    self.host,
                    self.pid,
                    self.token,
                ),
            )
            return cur.rowcount == 1

    def update(self, run_id: str, **fields: Any) -> None:
        """Set some of a run's fields (state, times, error, log, code_hash, source)."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if "state" in fields and fields["state"] not in STATES:
            raise ValueError(f"unknown state {fields['state']!r}")
        if "log" in fields:
            fields["log"] = bounded_log(fields["log"])
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self._write() as db:
            db.execute(
                f"UPDATE runs SET {assignments} WHERE run_id = ?", (*fields.values(), run_id)
            )

    def start(self, run_id: str) -> bool:
        """Move a SCHEDULED or PENDING run to RUNNING; False if it was cancelled meanwhile."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET state = 'RUNNING', started_at = ? "
                "WHERE run_id = ? AND state IN ('SCHEDULED', 'PENDING') AND cancel_requested = 0",
                (now_iso(), run_id),
            )
            return cur.rowcount == 1

    def finish(self, run_id: str, state: str, error: str | None, log: str) -> None:
        """End a run that is still live: its final state, error and log (a cancel wins)."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET state = ?, error = ?, log = ?, ended_at = ? "
                "WHERE run_id = ? AND state IN ('SCHEDULED', 'PENDING', 'RUNNING')",
                (state, error, bounded_log(log), now_iso(), run_id),
            )

    def save_task_run(self, run_id: str, task: TaskRunRecord, position: int) -> None:
        """Insert or update one task run of a run."""
        with self._write() as db:
            db.execute(
                "INSERT INTO task_runs (run_id, task_id, task_name, state, attempts, "
                "started_at, ended_at, error, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, task_id) DO UPDATE SET state = excluded.state, "
                "attempts = excluded.attempts, started_at = excluded.started_at, "
                "ended_at = excluded.ended_at, error = excluded.error",
                (
                    run_id,
                    task.task_id,
                    task.task_name,
                    task.state,
                    task.attempts,
                    task.started_at,
                    task.ended_at,
                    task.error,
                    position,
                ),
            )

    def request_cancel(self, run_id: str) -> str | None:
        """Ask for a run to stop; a run not started yet is CANCELLED at once. Its new state."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET cancel_requested = 1 WHERE run_id = ? AND state = 'RUNNING'",
                (run_id,),
            )
            db.execute(
                "UPDATE runs SET state = 'CANCELLED', ended_at = ?, error = 'cancelled' "
                "WHERE run_id = ? AND state IN ('SCHEDULED', 'PENDING')",
                (now_iso(), run_id),
            )
            row = db.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row["state"])

    def cancel_requested(self, run_id: str) -> bool:
        """Whether someone asked this run to stop."""
        with self._lock:
            row = self._db.execute(
                "SELECT cancel_requested, state FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return row is not None and (bool(row["cancel_requested"]) or row["state"] == "CANCELLED")

    def reap(self) -> list[str]:
        """Mark CRASHED the unfinished runs of this host whose process is gone; their ids."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, owner_host, owner_pid, owner_token FROM runs "
                "WHERE state IN ('SCHEDULED', 'PENDING', 'RUNNING')"
            ).fetchall()
        dead = [
            r
            for r in rows
            if r["owner_host"] == self.host
            and r["owner_pid"] is not None
            and not _alive(int(r["owner_pid"]), r["owner_token"])
        ]
        for row in dead:
            with self._write() as db:
                db.execute(
                    "UPDATE runs SET state = 'CRASHED', ended_at = ?, error = ? "
                    "WHERE run_id = ? AND state IN ('SCHEDULED', 'PENDING', 'RUNNING')",
                    (
                        now_iso(),
                        f"the process running it (pid {row['owner_pid']}) died",
                        row["run_id"],
                    ),
                )
        return [str(r["run_id"]) for r in dead]

    # -- schedule cursors -------------------------------------------------------------

    def cursor(self, deployment: str) -> str | None:
        """The latest scheduled time a worker has dealt with for a deployment."""
        with self._lock:
            row = self._db.execute(
                "SELECT last_slot FROM schedule_cursors WHERE deployment_name = ?", (deployment,)
            ).fetchone()
        return None if row is None else str(row["last_slot"])

    def advance_cursor(self, deployment: str, slot: str) -> None:
        """Move a deployment's cursor forward to `slot` (never back)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO schedule_cursors (deployment_name, last_slot) VALUES (?, ?) "
                "ON CONFLICT (deployment_name) DO UPDATE SET last_slot = excluded.last_slot "
                "WHERE excluded.last_slot > schedule_cursors.last_slot",
                (deployment, slot),
            )

    # -- reading ----------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        """One run with its log and task runs, or None."""
        self.reap()
        with self._lock:
            row = self._db.execute(
                f"SELECT {_RUN_COLUMNS}, log FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None:
                return None
            tasks = self._db.execute(
                "SELECT task_id, task_name, state, attempts, started_at, ended_at, error "
                "FROM task_runs WHERE run_id = ? ORDER BY position",
                (run_id,),
            ).fetchall()
        run = _record(row)
        run.log = row["log"]
        run.task_runs = [TaskRunRecord(**dict(t)) for t in tasks]
        return run

    def list_runs(
        self,
        *,
        flow_name: str | None = None,
        flow_version: str | None = None,
        deployment: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs newest first, filtered (each filter uses an index), without logs or tasks."""
        self.reap()
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("flow_name", flow_name),
            ("flow_version", flow_version),
            ("deployment_name", deployment),
            ("state", state),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_record(r) for r in rows]

    def live_runs(self) -> list[str]:
        """Ids of runs still PENDING or RUNNING."""
        placeholders = ", ".join("?" for _ in LIVE_STATES)
        with self._lock:
            rows = self._db.execute(
                f"SELECT run_id FROM runs WHERE state IN ({placeholders})", tuple(LIVE_STATES)
            ).fetchall()
        return [str(r["run_id"]) for r in rows]


def bounded_log(text: str) -> str:
    """A log cut to its last `LOG_LIMIT` characters, saying how much was dropped."""
    if len(text) <= LOG_LIMIT:
        return text
    dropped = len(text) - LOG_LIMIT
    return f"[… {dropped} characters dropped …]\n" + text[-LOG_LIMIT:]


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"],
        flow_name=row["flow_name"],
        flow_version=row["flow_version"],
        state=row["state"],
        created_at=row["created_at"],
        namespace=row["namespace"],
        code_hash=row["code_hash"],
        deployment_name=row["deployment_name"],
        deployment_version=row["deployment_version"],
        parameters=json.loads(row["parameters"]),
        source=row["source"],
        scheduled_for=row["scheduled_for"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        error=row["error"],
    )
