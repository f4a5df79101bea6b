"""The `@flow` / `@task` runtime: run flows locally, build their spec, deploy them.

Calling a task or a flow runs it here, with its retries and timeout. `Flow.build()` does not
look at these runtime objects: it runs the static analyser on the flow's source file, so the
SDK, the CLI, the pre-commit hook and the Action always compute the same spec and code_hash.

A timeout runs the function in a worker thread and raises `TimeoutError` when it has not
finished in time; Python cannot kill a thread, so the timed-out call keeps running in the
background until it returns (its result is dropped).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from dagy_git import observe
from dagy_git.errors import DagyError, SpecError
from dagy_git.options import check_option

if TYPE_CHECKING:
    from dagy_git.analysis import AnalyzedFlow
    from dagy_git.models import FlowSpec
    from dagy_git.observe import TaskRunWatch
    from dagy_git.plan import DeployResult

__all__ = ["Flow", "Task", "flow", "task"]

P = ParamSpec("P")
R = TypeVar("R")


def _validated(kind: str, fn: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """Check decorator options with the analyser's rules; errors point at the function."""
    if inspect.iscoroutinefunction(fn):
        raise SpecError(f"async {kind} {fn.__name__!r} is not supported")
    code = getattr(fn, "__code__", None)
    where: dict[str, Any] = {}
    if code is not None:
        where = {"path": code.co_filename, "line": code.co_firstlineno}
    checked: dict[str, Any] = {}
    for key, value in options.items():
        try:
            checked[key] = check_option(kind, key, value)
        except DagyError as exc:
            raise type(exc)(f"@{kind} {exc.message}", hint=exc.hint, **where) from None
    return checked


def _run(
    what: str,
    fn: Callable[..., R],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retries: int,
    delay: float,
    timeout: float | None,
    watch: TaskRunWatch | None = None,
) -> R:
    """Call `fn`, retrying `retries` more times on an exception, each try within `timeout`;
    each attempt is reported to `watch` when a run observes its task runs."""
    attempt = 0
    while True:
        if watch is not None:
            watch.attempt_started(attempt + 1)
        try:
            if timeout is None:
                value = fn(*args, **kwargs)
            else:
                value = _with_timeout(what, fn, args, kwargs, timeout)
        except Exception as exc:
            if watch is not None:
                watch.attempt_ended(attempt + 1, exc, final=attempt >= retries)
            if attempt >= retries:
                raise
            attempt += 1
            if delay > 0:
                time.sleep(delay)
        else:
            if watch is not None:
                watch.attempt_ended(attempt + 1, None, final=True)
            return value


def _with_timeout(
    what: str, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float
) -> R:
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    # A daemon thread: a call that never returns must not keep the interpreter alive.
    worker = threading.Thread(target=target, name=f"dagy {what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"{what} did not finish within {timeout:g} seconds")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


class Task(Generic[P, R]):
    """A `@task` function: calling it runs the function with the task's retries/timeout."""

    __name__: str  # set by functools.update_wrapper, like the function's own
    __qualname__: str

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay_seconds: float = 0.0,
        timeout_seconds: float | None = None,
        description: str | None = None,
    ) -> None:
        opts = _validated(
            "task",
            fn,
            {
                "name": fn.__name__ if name is None else name,
                "retries": retries,
                "retry_delay_seconds": retry_delay_seconds,
                "timeout_seconds": timeout_seconds,
                "description": description,
            },
        )
        self.fn = fn
        self.name: str = opts["name"]
        self.retries: int = opts["retries"]
        self.retry_delay_seconds: float = opts["retry_delay_seconds"]
        self.timeout_seconds: float | None = opts["timeout_seconds"]
        self.description: str | None = opts["description"]
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, wait_for: object = None, **kwargs: Any) -> R:
        """Run the task now; `wait_for` only orders the DAG, so it is ignored here."""
        return _run(
            f"task {self.name!r}",
            self.fn,
            args,
            kwargs,
            self.retries,
            self.retry_delay_seconds,
            self.timeout_seconds,
            observe.task_run(self.name),
        )

    def __repr__(self) -> str:
        return f"Task({self.name!r})"


class Flow(Generic[P, R]):
    """A `@flow` function: call it to run locally; `build()` / `deploy()` for the registry."""

    __name__: str  # set by functools.update_wrapper, like the function's own
    __qualname__: str

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        version: str = "latest",
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: float = 0.0,
        timeout_seconds: float | None = None,
    ) -> None:
        opts = _validated(
            "flow",
            fn,
            {
                "name": fn.__name__ if name is None else name,
                "version": version,
                "description": description,
                "retries": retries,
                "retry_delay_seconds": retry_delay_seconds,
                "timeout_seconds": timeout_seconds,
            },
        )
        self.fn = fn
        self.name: str = opts["name"]
        self.version: str = opts["version"]
        self.description: str | None = opts["description"]
        self.retries: int = opts["retries"]
        self.retry_delay_seconds: float = opts["retry_delay_seconds"]
        self.timeout_seconds: float | None = opts["timeout_seconds"]
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the flow locally: its tasks run as they are called, in order."""
        return _run(
            f"flow {self.name!r}",
            self.fn,
            args,
            kwargs,
            self.retries,
            self.retry_delay_seconds,
            self.timeout_seconds,
        )

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, version={self.version!r})"

    @property
    def source_path(self) -> Path:
        """The file that defines the flow (what `build()` analyses and `deploy()` stores)."""
        try:
            found = inspect.getsourcefile(self.fn)
        except TypeError:
            found = None
        if not found or not os.path.isfile(found):
            raise SpecError(
                f"cannot find the source file of flow {self.name!r}",
                hint="flows must be defined in a .py file (not in a REPL or notebook cell)",
            )
        return Path(found).resolve()

    def build_full(self) -> AnalyzedFlow:
        """The statically analysed flow (spec, hashes, path) from the flow's source file."""
        from dagy_git.analysis import analyze_file

        path = self.source_path
        root = _repo_root(path)
        display = path.relative_to(root).as_posix() if root is not None else str(path)
        # The repository's `sdk_modules`/`task_modules`, so build() computes the same spec
        # (and code_hash) as the CLI, the hook and the Action.
        settings = None
        if root is not None:
            from dagy_git.config import read_settings

            settings = read_settings(root)[0]
        result = analyze_file(path, repo_root=root, display_path=display, settings=settings)
        for analyzed in result.flows:
            if analyzed.spec.function == self.fn.__name__:
                return analyzed
        if result.problems:
            raise result.problems[0]
        raise SpecError(
            f"no module-level @flow function {self.fn.__name__!r} in {display}",
            path=display,
            hint="define flows at the top level of the file",
        )

    def build(self) -> FlowSpec:
        """The FlowSpec, built by the static analyser exactly as the CLI builds it."""
        return self.build_full().spec

    def deploy(
        self,
        name: str | None = None,
        namespace: str | None = None,
        tags: dict[str, str] | None = None,
        schedule: str | None = None,
        parameters: dict[str, Any] | None = None,
        force: bool = False,
        push: bool = False,
        flow_version: str | None = None,
        dry_run: bool = False,
        remote: str | None = None,
    ) -> DeployResult:
        """Register this flow version (and a deployment when `name` is given) in the registry."""
        from dagy_git.deploy import DeployOptions, deploy_flow

        options = DeployOptions(
            deployment=name,
            namespace=namespace,
            flow_version=flow_version,
            tags=dict(tags or {}),
            schedule=schedule,
            parameters=parameters,
            force=force,
            dry_run=dry_run,
            push=push,
            remote=remote,
        )
        return deploy_flow(self.build_full(), self.source_path, options)


def _repo_root(path: Path) -> Path | None:
    """The nearest folder above `path` holding `.git` (a file for worktrees/submodules)."""
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...
@overload
def task(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay_seconds: float = 0.0,
    timeout_seconds: float | None = None,
    description: str | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...
def task(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay_seconds: float = 0.0,
    timeout_seconds: float | None = None,
    description: str | None = None,
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Declare a task: `@task` or `@task(name=, retries=, retry_delay_seconds=, …)`."""

    if fn is not None and not callable(fn):
        raise SpecError("@task options must be given as keywords, e.g. @task(name=...)")

    def wrap(func: Callable[P, R]) -> Task[P, R]:
        return Task(
            func,
            name=name,
            retries=retries,
            retry_delay_seconds=retry_delay_seconds,
            timeout_seconds=timeout_seconds,
            description=description,
        )

    return wrap if fn is None else wrap(fn)


@overload
def flow(fn: Callable[P, R], /) -> Flow[P, R]: ...
@overload
def flow(
    *,
    name: str | None = None,
    version: str = "latest",
    description: str | None = None,
    retries: int = 0,
    retry_delay_seconds: float = 0.0,
    timeout_seconds: float | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...
def flow(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    version: str = "latest",
    description: str | None = None,
    retries: int = 0,
    retry_delay_seconds: float = 0.0,
    timeout_seconds: float | None = None,
) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Declare a flow: `@flow` or `@flow(name=, version=, description=, retries=, …)`."""

    if fn is not None and not callable(fn):
        raise SpecError("@flow options must be given as keywords, e.g. @flow(name=...)")

    def wrap(func: Callable[P, R]) -> Flow[P, R]:
        return Flow(
            func,
            name=name,
            version=version,
            description=description,
            retries=retries,
            retry_delay_seconds=retry_delay_seconds,
            timeout_seconds=timeout_seconds,
        )

    return wrap if fn is None else wrap(fn)
