"""The task-run observer: the SDK reports every attempt of every task call, and only when asked."""

from __future__ import annotations

import pytest

from dagy_git import flow, task
from dagy_git.observe import observing


class Recorder:
    """An observer that writes down what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int, str | None, bool | None]] = []

    def task_run(self, task_name: str) -> Watch:
        return Watch(self, task_name)


class Watch:
    def __init__(self, recorder: Recorder, name: str) -> None:
        self.recorder, self.name = recorder, name

    def attempt_started(self, attempt: int) -> None:
        self.recorder.events.append(("start", self.name, attempt, None, None))

    def attempt_ended(self, attempt: int, error: BaseException | None, final: bool) -> None:
        text = None if error is None else str(error)
        self.recorder.events.append(("end", self.name, attempt, text, final))


calls = {"n": 0}


@task(retries=2)
def flaky() -> int:
    calls["n"] += 1
    if calls["n"] < 2:
        raise ValueError("not yet")
    return calls["n"]


@task
def broken() -> None:
    raise RuntimeError("always")


@flow(name="observed")
def observed() -> int:
    return flaky()


def test_attempts_are_reported_with_retries_and_final_flags() -> None:
    calls["n"] = 0
    recorder = Recorder()
    with observing(recorder):
        assert observed() == 2
    assert recorder.events == [
        ("start", "flaky", 1, None, None),
        ("end", "flaky", 1, "not yet", False),
        ("start", "flaky", 2, None, None),
        ("end", "flaky", 2, None, True),
    ]


def test_a_final_failure_is_final_and_nothing_is_reported_unobserved() -> None:
    recorder = Recorder()
    with observing(recorder), pytest.raises(RuntimeError):
        broken()
    assert recorder.events == [
        ("start", "broken", 1, None, None),
        ("end", "broken", 1, "always", True),
    ]
    with pytest.raises(RuntimeError):
        broken()  # after the block: the observer is no longer told
    assert len(recorder.events) == 2
