"""The SDK runtime: `@flow` / `@task` objects run locally and build specs statically."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

import dagy_git
from dagy_git import Flow, Task, flow, task
from dagy_git.analysis import build_flows
from dagy_git.errors import DagyError, InvalidNameError, SpecError

from conftest import write

_counter = itertools.count()


def load(path: Path) -> ModuleType:
    """Import a flow file the way a user's program would (it runs the decorators)."""
    name = f"user_flows_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


PIPELINE = '''
from dagy_git import flow, task

CALLS = []


@task(retries=1, description="read the rows")
def extract(source: str) -> list:
    """Read rows."""
    CALLS.append("extract")
    return [source, source.upper()]


@task
def transform(records: list) -> list:
    CALLS.append("transform")
    return [r + "!" for r in records]


@task(name="load-rows")
def load(records: list) -> dict:
    CALLS.append("load")
    return {"count": len(records)}


@flow(name="order_etl", version="2.1.0", description="orders")
def order_etl(source: str = "s3://data/orders/"):
    """The spec's example."""
    raw = extract(source)
    clean = transform(raw)
    return load(clean, wait_for=[raw])
'''


@pytest.fixture
def pipeline(repo: Path) -> ModuleType:
    return load(write(repo, "flows/orders/pipeline.py", PIPELINE))


def test_flow_runs_locally_in_order(pipeline: ModuleType) -> None:
    assert pipeline.order_etl("s3://x") == {"count": 2}
    assert pipeline.CALLS == ["extract", "transform", "load"]
    assert pipeline.transform(["a"]) == ["a!"]


def test_objects_keep_their_function_identity(pipeline: ModuleType) -> None:
    etl, extract = pipeline.order_etl, pipeline.extract
    assert isinstance(etl, Flow) and isinstance(extract, Task)
    assert (etl.__name__, etl.__doc__) == ("order_etl", "The spec's example.")
    assert (extract.__name__, extract.__doc__) == ("extract", "Read rows.")
    assert (etl.name, etl.version, etl.description) == ("order_etl", "2.1.0", "orders")
    assert etl.fn.__name__ == "order_etl"
    assert (extract.name, extract.retries, extract.description) == ("extract", 1, "read the rows")
    assert pipeline.load.name == "load-rows"
    assert repr(etl) == "Flow('order_etl', version='2.1.0')"


def test_build_is_the_static_analysis(pipeline: ModuleType, repo: Path) -> None:
    etl = pipeline.order_etl
    path = repo / "flows/orders/pipeline.py"
    (cli,) = build_flows(path, repo_root=repo, display_path="flows/orders/pipeline.py")
    assert etl.build() == cli.spec
    full = etl.build_full()
    assert (full.code_hash, full.source_file_hash, full.path) == (
        cli.code_hash,
        cli.source_file_hash,
        "flows/orders/pipeline.py",
    )
    spec = etl.build()
    assert [t.id for t in spec.tasks] == ["extract", "transform", "load-rows"]
    assert spec.edges == [
        ("extract", "load-rows"),
        ("extract", "transform"),
        ("transform", "load-rows"),
    ]
    assert etl.source_path == path.resolve()


def test_build_picks_the_flow_by_function_name(repo: Path) -> None:
    module = load(
        write(
            repo,
            "two.py",
            """
            from dagy_git import flow

            @flow(name="first")
            def one():
                return 1

            @flow(name="second", version="2")
            def two():
                return 2
            """,
        )
    )
    assert (module.one.build().name, module.two.build().name) == ("first", "second")
    assert module.two.build().version == "2"


def test_build_with_tasks_imported_from_the_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, "common/__init__.py", "")
    write(
        repo,
        "common/tasks.py",
        """
        from dagy_git import task

        @task(retries=3)
        def extract(source):
            return [source]
        """,
    )
    path = write(
        repo,
        "flows/etl.py",
        """
        from dagy_git import flow
        from common.tasks import extract

        @flow
        def etl(source="s"):
            return extract(source)
        """,
    )
    monkeypatch.syspath_prepend(str(repo))
    module = load(path)
    assert module.etl() == ["s"]
    (task_spec,) = module.etl.build().tasks
    assert (task_spec.module, task_spec.retries) == ("common.tasks", 3)


def test_build_reports_the_flows_problem(repo: Path) -> None:
    module = load(
        write(
            repo,
            "broken.py",
            """
            from dagy_git import flow, task

            @task
            def extract(x):
                return x

            @flow
            def etl():
                x = 1
                for _ in range(2):
                    x = extract(x)
                return x
            """,
        )
    )
    assert module.etl() == 1  # it runs; it just cannot be analysed
    with pytest.raises(SpecError) as info:
        module.etl.build()
    assert info.value.location == "broken.py:8:1"
    assert "cycle: extract -> extract" in info.value.message


def test_build_of_a_flow_defined_inside_a_function(repo: Path) -> None:
    module = load(
        write(
            repo,
            "nested.py",
            """
            from dagy_git import flow

            def factory():
                @flow
                def inner():
                    return 1
                return inner
            """,
        )
    )
    inner = module.factory()
    assert inner() == 1
    with pytest.raises(SpecError, match="no module-level @flow function 'inner'"):
        inner.build()


def test_task_retries_until_it_succeeds() -> None:
    attempts: list[int] = []

    @task(retries=2, retry_delay_seconds=0)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return x * 10

    assert flaky(4) == 40
    assert attempts == [4, 4, 4]


def test_task_gives_up_after_its_retries() -> None:
    attempts: list[int] = []

    @task(retries=1)
    def broken() -> None:
        attempts.append(1)
        raise ValueError("always")

    with pytest.raises(ValueError, match="always"):
        broken()
    assert len(attempts) == 2


def test_no_retries_by_default() -> None:
    attempts: list[int] = []

    @task
    def broken() -> None:
        attempts.append(1)
        raise KeyError("x")

    with pytest.raises(KeyError):
        broken()
    assert attempts == [1]


def test_flow_retries_run_the_whole_flow_again() -> None:
    runs: list[str] = []

    @task
    def step() -> str:
        runs.append("step")
        if len(runs) == 1:
            raise RuntimeError("first run fails")
        return "ok"

    @flow(retries=1)
    def pipeline() -> str:
        return step()

    assert pipeline() == "ok"
    assert runs == ["step", "step"]


def test_task_timeout() -> None:
    release = threading.Event()

    @task(timeout_seconds=0.05)
    def stuck() -> str:
        release.wait(10)
        return "late"

    try:
        with pytest.raises(TimeoutError, match=r"task 'stuck' did not finish within 0\.05 seconds"):
            stuck()
    finally:
        release.set()  # let the abandoned worker thread end


def test_flow_timeout() -> None:
    release = threading.Event()

    @flow(timeout_seconds=0.05)
    def slow() -> None:
        release.wait(10)

    try:
        with pytest.raises(TimeoutError, match="flow 'slow'"):
            slow()
    finally:
        release.set()


def test_timeout_passes_results_and_errors_through() -> None:
    @task(timeout_seconds=5)
    def quick(x: int) -> int:
        return x + 1

    @task(timeout_seconds=5)
    def failing() -> None:
        raise LookupError("inside the worker")

    assert quick(1) == 2
    with pytest.raises(LookupError, match="inside the worker"):
        failing()


def test_wait_for_is_accepted_and_ignored_at_run_time() -> None:
    @task
    def echo(x: int) -> int:
        return x

    assert echo(3, wait_for=[1, 2]) == 3


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: task(retries=-1), SpecError, "retries must be a whole number"),
        (lambda: task(retries=True), SpecError, "retries must be a whole number"),
        (lambda: task(timeout_seconds=float("nan")), SpecError, "number of seconds"),
        (lambda: task(name="etl@2"), InvalidNameError, "cannot contain '@'"),
        (lambda: task(name="   "), InvalidNameError, "task name must not be empty"),
        (lambda: task(name="a\tb"), InvalidNameError, "control character"),
        (lambda: flow(name="x" * 129), InvalidNameError, "longer than 128"),
        (lambda: flow(version=""), InvalidNameError, "version must not be empty"),
        (lambda: flow(retry_delay_seconds=-1), SpecError, "retry_delay_seconds"),
        (lambda: task(retry_delay_seconds=[1, "x"]), SpecError, "retry_delay_seconds"),
    ],
)
def test_invalid_options_fail_at_decoration(make: object, error: type, message: str) -> None:
    decorator = make()  # type: ignore[operator]

    def fn() -> None: ...

    with pytest.raises(error, match=message) as info:
        decorator(fn)
    assert isinstance(info.value, DagyError)
    assert info.value.path is not None and info.value.path.endswith("test_sdk.py")


def test_positional_options_are_refused() -> None:
    with pytest.raises(SpecError, match="options must be given as keywords"):
        task("extract")  # type: ignore[call-overload]
    with pytest.raises(SpecError, match="options must be given as keywords"):
        flow("etl")  # type: ignore[call-overload]


def test_names_with_spaces_and_unknown_options_are_kept() -> None:
    def on_failure(*_: object) -> None: ...

    @task(name="Load Orders (EU)", task_run_name="load-{day}", cache_key_fn=None, tags=["eu"])
    def load(day: str) -> str:
        return day

    @flow(name="My ETL Flow", log_prints=True, on_failure=[on_failure], persist_result=False)
    def etl() -> str:
        return load("mon")

    assert (load.name, etl.name) == ("Load Orders (EU)", "My ETL Flow")
    assert load.options == {"task_run_name": "load-{day}", "cache_key_fn": None, "tags": ["eu"]}
    assert etl.options == {"log_prints": True, "on_failure": [on_failure], "persist_result": False}
    assert etl() == "mon"


def test_package_exports_and_import_cost() -> None:
    assert {"flow", "task", "Flow", "Task", "__version__"} <= set(dagy_git.__all__)
    # asyncio and the thread pool load only when a flow needs them.
    heavy = ("typer", "rich", "git", "pydantic", "asyncio", "concurrent.futures")
    code = (
        "import sys, dagy_git\n"
        "from dagy_git import flow, task, get_run_logger, unmapped\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
