"""Schedules that fire: each deployment's cron schedule, one run per scheduled time.

A `Scheduler.tick()` looks at every scheduled deployment of the registry, works out the
scheduled times ("slots") since its cursor, and claims each slot by inserting a SCHEDULED
run; the store's unique (deployment, scheduled time) index makes the claim atomic, so two
workers, or a worker restarted mid-way, never run one slot twice. Slots older than `grace`
were missed while no worker ran: they are reported, and run only with `catch_up`.

Time comes from an injected clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

from dagy_git.cron import validate_schedule, validate_timezone
from dagy_git.errors import DagyError
from dagy_git.models import DeploymentRecord
from dagy_git.runs.launch import RunRequest, prepare
from dagy_git.runs.store import RunStore
from dagy_git.runs.types import RunRecord, iso
from dagy_git.workspace import Workspace

__all__ = ["Claimed", "Scheduler", "Tick", "slots_between"]

Clock = Callable[[], datetime]
_MAX_SLOTS = 10_000  # per deployment and tick: a `* * * * *` schedule down for a week


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _zone(dep: DeploymentRecord) -> ZoneInfo | timezone:
    """The zone a deployment's schedule is read in (records without one: UTC)."""
    if not dep.timezone:
        return timezone.utc
    return ZoneInfo(validate_timezone(dep.timezone))


def slots_between(
    schedule: str, zone: ZoneInfo | timezone, after: datetime, until: datetime
) -> list[datetime]:
    """The scheduled times of `schedule` (read in `zone`) in `(after, until]`, in UTC."""
    it = croniter(validate_schedule(schedule), after.astimezone(zone))
    out: list[datetime] = []
    while len(out) < _MAX_SLOTS:
        slot = it.get_next(datetime).astimezone(timezone.utc)
        if slot > until:
            break
        out.append(slot)
    return out


@dataclass(frozen=True)
class Claimed:
    """A slot this worker won: the run it created and what to execute."""

    request: RunRequest
    run: RunRecord


@dataclass
class Tick:
    """What one look at the schedules found."""

    claimed: list[Claimed] = field(default_factory=list)
    taken: list[tuple[str, datetime]] = field(default_factory=list)  # another worker's
    missed: dict[str, list[datetime]] = field(default_factory=dict)
    errors: dict[str, DagyError] = field(default_factory=dict)


class Scheduler:
    """Fires the schedules of one repository's deployments into one runs store."""

    def __init__(
        self,
        ws: Workspace,
        store: RunStore,
        *,
        clock: Clock = _utc_now,
        catch_up: bool = False,
        grace: timedelta = timedelta(seconds=60),
    ) -> None:
        self.ws = ws
        self.store = store
        self.clock = clock
        self.catch_up = catch_up
        self.grace = grace

    def deployments(self) -> list[DeploymentRecord]:
        """Deployments with a schedule, as the registry holds them now."""
        with self.ws.registry().snapshot() as snap:
            return [d for d in snap.deployments() if d.schedule]

    def tick(self) -> Tick:
        """Claim every due slot of every scheduled deployment (running none of them)."""
        now = self.clock()
        tick = Tick()
        for dep in self.deployments():
            try:
                self._deployment(dep, now, tick)
            except DagyError as exc:
                tick.errors[dep.name] = exc
        return tick

    def _deployment(self, dep: DeploymentRecord, now: datetime, tick: Tick) -> None:
        assert dep.schedule is not None  # filtered by deployments()
        cursor = self.store.cursor(dep.name)
        # A deployment seen for the first time has no history: only a slot just due fires.
        after = (
            datetime.fromisoformat(cursor.replace("Z", "+00:00")) if cursor else now - self.grace
        )
        slots = slots_between(dep.schedule, _zone(dep), after, now)
        if not slots:
            return
        due = slots if self.catch_up else [s for s in slots if now - s <= self.grace]
        missed = [s for s in slots if s not in due]
        if missed:
            tick.missed[dep.name] = missed
        try:
            if due:
                request = prepare(self.ws, deployment=dep.name)
                for slot in due:
                    run = request.new_run("SCHEDULED", scheduled_for=iso(slot))
                    if self.store.create(run):
                        tick.claimed.append(Claimed(request, run))
                    else:
                        tick.taken.append((dep.name, slot))
        finally:
            # A deployment that cannot run (reported) is not retried for the same slots.
            self.store.advance_cursor(dep.name, iso(slots[-1]))

    def next_due(self) -> datetime | None:
        """The earliest upcoming slot of any scheduled deployment (for the worker's sleep)."""
        now = self.clock()
        upcoming: list[datetime] = []
        for dep in self.deployments():
            try:
                it = croniter(dep.schedule, now.astimezone(_zone(dep)))
                upcoming.append(it.get_next(datetime).astimezone(timezone.utc))
            except (DagyError, ValueError, KeyError):
                continue
        return min(upcoming, default=None)
