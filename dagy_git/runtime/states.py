"""The state of one task or flow run: pending, running, completed or failed.

What a future's `.state` and a `return_state=True` call give back, so flow code can branch on
an outcome (`state.is_failed()`) without catching the task's exception.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMPLETED", "FAILED", "PENDING", "RUNNING", "State"]

PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"


class State:
    """One run's state: its `type`, a `message`, and the value or the error it ended with."""

    __slots__ = ("data", "error", "message", "type")

    # A plain class, not a dataclass: `dataclasses` costs more to import than all of this.
    def __init__(
        self, type: str, message: str = "", data: Any = None, error: BaseException | None = None
    ) -> None:
        self.type = type
        self.message = message
        self.data = data
        self.error = error

    def __repr__(self) -> str:
        return f"State({self.name}{', ' + self.message if self.message else ''})"

    @property
    def name(self) -> str:
        """`Completed`, `Failed`, … as the SDK's users read it."""
        return self.type.title()

    def is_pending(self) -> bool:
        """Not started yet (waiting for its upstream tasks or a worker)."""
        return self.type == PENDING

    def is_running(self) -> bool:
        """Started and not finished."""
        return self.type == RUNNING

    def is_completed(self) -> bool:
        """Finished with a value."""
        return self.type == COMPLETED

    def is_failed(self) -> bool:
        """Finished with an error (after its retries)."""
        return self.type == FAILED

    def is_final(self) -> bool:
        """Completed or failed: it will not change any more."""
        return self.type in (COMPLETED, FAILED)

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's value; for a failed run its error, raised unless `raise_on_failure=False`."""
        if self.error is not None:
            if raise_on_failure:
                raise self.error
            return self.error
        return self.data

    @classmethod
    def completed(cls, value: Any) -> State:
        """The state of a run that returned `value`."""
        return cls(COMPLETED, "", value)

    @classmethod
    def failed(cls, error: BaseException) -> State:
        """The state of a run that raised `error`."""
        return cls(FAILED, f"{type(error).__name__}: {error}", None, error)
