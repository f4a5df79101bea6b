"""The `@flow` / `@task` runtime: run flows locally, build their spec, deploy them.

Calling a task or a flow runs it here (`dagy_git/runtime/`): retries with their delays,
timeouts, `.submit()` futures, `.map()`, `.with_options()`, async flows and tasks, subflows.
`Flow.build()` does not look at these runtime objects: it runs the static analyser on the
flow's source file, so the SDK, the CLI, the pre-commit hook and the Action always compute
the same spec and code_hash.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, ParamSpec, TypeVar, overload

from dagy_git.errors import DagyError, SpecError
from dagy_git.runtime.engine import Policy
from dagy_git.runtime.flows import call_flow
from dagy_git.runtime.futures import FutureList, TaskFuture
from dagy_git.runtime.options import check_options
from dagy_git.runtime.tasks import call_task, map_task, submit_task

if TYPE_CHECKING:
    from dagy_git.analysis import AnalyzedFlow
    from dagy_git.models import FlowSpec
    from dagy_git.plan import DeployResult

__all__ = ["Flow", "Task", "flow", "task"]

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound="_Decorated[Any, Any]")


class _Decorated(Generic[P, R]):
    """What `Task` and `Flow` share: the function, its options, copies with other options."""

    __name__: str  # set by functools.update_wrapper, like the function's own
    __qualname__: str
    kind = ""
    _DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)  # calls give coroutines to await
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]
        self._configure(options)

    def _configure(self, given: dict[str, Any]) -> None:
        """Check the options (errors point at the function) and set the attributes."""
        options = {**self._DEFAULTS, **given}
        if options.get("name") is None:
            options["name"] = self.fn.__name__
        try:
            checked = check_options(self.kind, options)
        except DagyError as exc:
            code = getattr(self.fn, "__code__", None)
            where: dict[str, Any] = {}
            if code is not None:
                where = {"path": code.co_filename, "line": code.co_firstlineno}
            raise type(exc)(f"@{self.kind} {exc.message}", hint=exc.hint, **where) from None
        self._given = dict(given)
        self.name: str = checked.pop("name")
        self.description: str | None = checked.pop("description")
        self.retries: int = checked.pop("retries")
        self.retry_delay_seconds: float | tuple[float, ...] = checked.pop("retry_delay_seconds")
        self.timeout_seconds: float | None = checked.pop("timeout_seconds")
        self._set_more(checked)
        # Every other keyword (log_prints, cache_key_fn, tags, …) is kept as given.
        self.options: dict[str, Any] = checked
        self._policy = Policy(
            label=f"{self.kind} {self.name!r}",
            retries=self.retries,
            delays=self.retry_delay_seconds,
            timeout=self.timeout_seconds,
            retry_condition=checked.get("retry_condition_fn"),
            hooks={k: _hook_list(checked.get(k)) for k in ("on_completion", "on_failure")},
        )
        self._runs = itertools.count(1)

    def _set_more(self, checked: dict[str, Any]) -> None:
        """Pop and set the options typed for this kind only."""

    def __get__(self: D, instance: object, owner: type | None = None) -> D:
        """A `@task` (or `@flow`) method: `Loader().load(x)` runs with `self` bound."""
        if instance is None:
            return self
        bound = copy.copy(self)
        bound.fn = self.fn.__get__(instance, owner)
        return bound

    def with_options(self: D, **options: Any) -> D:
        """A copy with some options replaced (`name=`, `retries=`, any keyword)."""
        copied = copy.copy(self)
        copied._configure({**self._given, **options})
        return copied

    def _run_name(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The run's name: `task_run_name` / `flow_run_name` (a template or a function of
        nothing), else `<name>-<n>`."""
        template = self.options.get(f"{self.kind}_run_name")
        try:
            if callable(template):
                return str(template())
            if isinstance(template, str):
                bound = inspect.signature(self.fn).bind(*args, **kwargs)
                bound.apply_defaults()
                return template.format(**bound.arguments)
        except Exception:  # a name is a label: a template that does not fit falls back
            pass
        return f"{self.name}-{next(self._runs)}"


class Task(_Decorated[P, R]):
    """A `@task` function: call it to run it, `.submit()` for a future, `.map()` over items."""

    kind = "task"
    _DEFAULTS: ClassVar[dict[str, Any]] = {
        "name": None,
        "description": None,
        "retries": 0,
        "retry_delay_seconds": 0.0,
        "timeout_seconds": None,
    }

    def __call__(
        self, *args: Any, wait_for: object = None, return_state: bool = False, **kwargs: Any
    ) -> R:
        """Run the task now (after the futures in `wait_for`); futures in arguments are
        replaced by their results. `return_state=True` gives the `State` instead of raising."""
        return call_task(  # type: ignore[no-any-return]
            self, self._policy, self._run_name, args, kwargs, wait_for, return_state
        )

    def submit(self, *args: Any, wait_for: object = None, **kwargs: Any) -> TaskFuture[R]:
        """Start the task on a worker thread and return its future at once."""
        return submit_task(self, self._policy, self._run_name, args, kwargs, wait_for)

    def map(self, *args: Any, wait_for: object = None, **kwargs: Any) -> FutureList:
        """Submit one run per item of the iterable arguments (`unmapped(x)` passed whole)."""
        return map_task(self, self._policy, self._run_name, args, kwargs, wait_for)

    def __repr__(self) -> str:
        return f"Task({self.name!r})"


class Flow(_Decorated[P, R]):
    """A `@flow` function: call it to run locally; `build()` / `deploy()` for the registry."""

    kind = "flow"
    _DEFAULTS: ClassVar[dict[str, Any]] = {**Task._DEFAULTS, "version": "latest"}

    def _set_more(self, checked: dict[str, Any]) -> None:
        self.version: str = checked.pop("version")

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> R:
        """Run the flow locally as a flow run (a child run when called inside a flow)."""
        return call_flow(  # type: ignore[no-any-return]
            self, self._policy, self._run_name, args, kwargs, return_state
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


def _hook_list(value: object) -> list[Callable[..., object]]:
    """`on_failure=[a, b]` as a list; one function given alone counts as a list of one."""
    if value is None:
        return []
    if callable(value):
        return [value]
    return [hook for hook in value if callable(hook)] if isinstance(value, (list, tuple)) else []


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
    retry_delay_seconds: float | list[float] | Callable[[int], list[float]] = 0.0,
    timeout_seconds: float | None = None,
    description: str | None = None,
    **options: Any,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...
def task(
    fn: Callable[P, R] | None = None, /, **options: Any
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Declare a task: `@task` or `@task(name=, retries=, retry_delay_seconds=, …)`.

    Every keyword is accepted: the typed ones are checked now, the rest (`cache_key_fn`,
    `task_run_name`, `on_failure`, `tags`, …) are kept in `Task.options`.
    """
    if fn is not None and not callable(fn):
        raise SpecError("@task options must be given as keywords, e.g. @task(name=...)")

    def wrap(func: Callable[P, R]) -> Task[P, R]:
        return Task(func, **options)

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
    retry_delay_seconds: float | list[float] | Callable[[int], list[float]] = 0.0,
    timeout_seconds: float | None = None,
    **options: Any,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...
def flow(
    fn: Callable[P, R] | None = None, /, **options: Any
) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Declare a flow: `@flow` or `@flow(name=, version=, description=, retries=, …)`.

    Every keyword is accepted: the typed ones are checked now, the rest (`log_prints`,
    `flow_run_name`, `task_runner`, …) are kept in `Flow.options`.
    """
    if fn is not None and not callable(fn):
        raise SpecError("@flow options must be given as keywords, e.g. @flow(name=...)")

    def wrap(func: Callable[P, R]) -> Flow[P, R]:
        return Flow(func, **options)

    return wrap if fn is None else wrap(fn)
