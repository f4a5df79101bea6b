"""`task_modules`, `sdk_modules` and the repository modules a flow file imports (its closure).

Real files in temporary folders; nothing is imported or run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dagy_git.analysis import AnalysisSettings, analyze_file, analyze_source
from dagy_git.config import read_settings

from conftest import write

SHARED_FLOW = """\
from dagy import flow
import shared_pkg as sp
from shared_pkg.quality import check_nulls
from shared_pkg import io as sio
from shared_pkg import Client

@flow(name="Quality Gate")
def gate(table: str):
    df = sp.extract_table.submit(table)
    nulls = check_nulls(df)
    client = Client(table)
    rows = sio.write_table.map([df], wait_for=[nulls])
    sp.report.fn(rows)
    return client
"""


def test_calls_into_task_modules_are_task_nodes_named_by_qualified_name() -> None:
    settings = AnalysisSettings(task_modules=("shared_pkg", "shared_pkg.*"))
    result = analyze_source(SHARED_FLOW.encode(), "gate.py", settings=settings)
    assert (result.problems, result.warnings) == ([], [])
    (flow,) = result.flows
    tasks = [(t.id, t.module, t.function, t.mapped) for t in flow.spec.tasks]
    assert tasks == [
        ("shared_pkg.extract_table", "shared_pkg", "extract_table", False),
        ("shared_pkg.quality.check_nulls", "shared_pkg.quality", "check_nulls", False),
        ("shared_pkg.io.write_table", "shared_pkg.io", "write_table", True),
    ]
    assert flow.spec.edges == [
        ("shared_pkg.extract_table", "shared_pkg.io.write_table"),
        ("shared_pkg.extract_table", "shared_pkg.quality.check_nulls"),
        ("shared_pkg.quality.check_nulls", "shared_pkg.io.write_table"),
    ]


def test_without_task_modules_calls_into_installed_packages_are_ordinary_code() -> None:
    result = analyze_source(SHARED_FLOW.encode(), "gate.py")
    assert (result.problems, result.warnings) == ([], [])
    assert result.flows[0].spec.tasks == []
    # Only the named modules: `shared_pkg.quality` alone does not make `shared_pkg` tasks.
    only = AnalysisSettings(task_modules=("shared_pkg.quality",))
    (flow,) = analyze_source(SHARED_FLOW.encode(), "gate.py", settings=only).flows
    assert [t.id for t in flow.spec.tasks] == ["shared_pkg.quality.check_nulls"]


MIGRATING = """\
import acme_sdk as sdk
from acme_sdk import task

@task(retries=2)
def extract(): ...

@sdk.flow(name="Migrating")
def migrating():
    extract()
"""


def test_sdk_modules_name_the_decorators_that_count() -> None:
    assert analyze_source(MIGRATING.encode(), "m.py").flows == []
    settings = AnalysisSettings(sdk_modules=("dagy", "dagy_git", "acme_sdk"))
    (flow,) = analyze_source(MIGRATING.encode(), "m.py", settings=settings).flows
    assert (flow.spec.name, [(t.id, t.retries) for t in flow.spec.tasks]) == (
        "Migrating",
        [("extract", 2)],
    )


def test_settings_are_read_from_dagy_toml(tmp_path: Path) -> None:
    write(tmp_path, "dagy.toml", 'task_modules = ["shared_pkg", "shared_pkg.*"]\n')
    settings, errors = read_settings(tmp_path)
    assert errors == []
    assert settings.task_modules == ("shared_pkg", "shared_pkg.*")
    assert settings.sdk_modules == ("dagy", "dagy_git")
    flow_file = write(tmp_path, "gate.py", SHARED_FLOW)
    (flow,) = analyze_file(flow_file, repo_root=tmp_path, settings=settings).flows
    assert len(flow.spec.tasks) == 3


@pytest.mark.parametrize("bad", ['["shared pkg"]', '["a..b"]', '[""]', '"shared_pkg"', "[1]"])
def test_bad_module_settings_are_clear_errors(tmp_path: Path, bad: str) -> None:
    write(tmp_path, "dagy.toml", f"sdk_modules = {bad}\n")
    _, errors = read_settings(tmp_path)
    (error,) = errors
    assert (error.path, error.line) == ("dagy.toml", 1)
    assert "sdk_modules" in error.message


def _repo(root: Path) -> None:
    write(root, "common/__init__.py", "from .tasks import extract\n")
    write(
        root,
        "common/tasks.py",
        "from dagy import task\nfrom . import util\n@task\ndef extract(): ...\n",
    )
    write(root, "common/util.py", "import json\nimport pandas\n")
    write(root, "lazy/__init__.py", "")
    write(root, "lazy/late.py", "X = 1\n")
    write(root, "unused.py", "")


def test_repo_imports_are_the_transitive_repository_modules(tmp_path: Path) -> None:
    _repo(tmp_path)
    flow = write(
        tmp_path,
        "flows/etl.py",
        "import os\nfrom dagy import flow\nfrom common.tasks import extract\n\n"
        "def helper():\n    from lazy import late\n    return late.X\n\n"
        "@flow\ndef etl():\n    extract()\n",
    )
    result = analyze_file(flow, repo_root=tmp_path)
    want = [
        "common/__init__.py",
        "common/tasks.py",
        "common/util.py",
        "lazy/__init__.py",
        "lazy/late.py",
    ]
    assert result.flows[0].repo_imports == want
    assert result.repo_imports == want
    # A flow file that imports nothing of the repository depends on itself only.
    alone = write(tmp_path, "flows/alone.py", "from dagy import flow\n@flow\ndef alone(): ...\n")
    assert analyze_file(alone, repo_root=tmp_path).flows[0].repo_imports == []


def test_import_cycles_end(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "import b\n")
    write(tmp_path, "b.py", "import a\nimport flows.f\n")
    flow = write(tmp_path, "flows/f.py", "import a\nfrom dagy import flow\n@flow\ndef f(): ...\n")
    write(tmp_path, "flows/__init__.py", "")
    (found,) = analyze_file(flow, repo_root=tmp_path).flows
    assert found.repo_imports == ["a.py", "b.py", "flows/__init__.py"]
