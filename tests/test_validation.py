"""`dagy-git validate`: every problem of a repository as `path:line:col: message` lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dagy_git.cli.commands import validate as validate_cmd
from dagy_git.validation import Problem, Report, check_repo, validate_repo

from conftest import ORDER_ETL, commit_all, git, run_cli, write

SIMPLE = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="{name}", version="{version}")
def {function}(x: int = 1):
    return step(x)
"""


def simple(name: str, version: str = "1.0", function: str = "main") -> str:
    return SIMPLE.format(name=name, version=version, function=function)


def run(
    capsys: pytest.CaptureFixture[str], cwd: Path, *paths: str, hints: bool = False
) -> tuple[int, list[str], str]:
    """Run the validate command in-process: exit code, stdout lines (without the `  hint:`
    lines unless `hints`), stderr."""
    code = validate_cmd.run(list(paths), cwd)
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if hints or not line.startswith("  hint: ")]
    return code, lines, err.strip()


def test_clean_repository(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "pipelines/data/orders.py", ORDER_ETL)
    write(repo, "pipelines/billing/invoices.py", simple("invoices"))
    write(repo, "pipelines/dagy.toml", '[tags]\nteam = "data-eng"\n')
    write(repo, "README.md", "not a flow\n")
    assert run(capsys, repo) == (0, [], "checked 2 flows in 3 files: ok")


BROKEN_REPO = {
    "dagy.toml": """
        namespace_root = "pipelines"

        [[deployments]]
        name = "orders-prod"
        flow = "pipelines/data/orders.py:nope"

        [[deployments]]
        name = "gone"
        flow = "pipelines/missing.py"

        [[deployments]]
        name = "two"
        flow = "pipelines/data/two.py"

        [[deployments]]
        name = "weekly"
        flow = "pipelines/data/orders.py"
        schedule = "0 6 * * 8"

        [[deployments]]
        name = "stray"
        flow = "scripts/stray.py"
        """,
    "pipelines/team/dagy.toml": """
        [tags]
        team = "data-eng"

        [[deployments]]
        name = "orders-prod"
        flow = "../data/orders.py"
        colour = "red"

        [[deployments]]
        name = "orders-prod"
        flow = "../data/orders.py"
        """,
    "pipelines/bad/dagy.toml": '[tags]\nteam = "x"\nenv = prod\n',
    "pipelines/data/orders.py": ORDER_ETL,
    "pipelines/data/copy.py": ORDER_ETL,
    "pipelines/data/two.py": simple("first", function="first")
    + simple("second", function="second"),
    "pipelines/my dir/spaced.py": simple("spaced"),
    "pipelines/data/broken.py": "from dagy import flow\n\n\n@flow(name='bad@name')\ndef f():\n"
    "    pass\n",
    "scripts/stray.py": simple("stray"),
}


def test_every_kind_of_problem_is_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel, text in BROKEN_REPO.items():
        write(repo, rel, text)
    code, lines, err = run(capsys, repo, hints=True)
    assert code == 1
    outside = "is outside namespace_root 'pipelines' (dagy.toml), so no namespace can be derived"
    hints = [line for line in lines if line.startswith("  hint: ")]
    assert "  hint: flow paths are relative to the folder of the dagy.toml" in hints
    lines = [line for line in lines if not line.startswith("  hint: ")]
    assert [line for line in lines if not line.startswith("pipelines/data/broken.py:")] == [
        "dagy.toml:3:1: deployment 'orders-prod': pipelines/data/orders.py has no flow 'nope' "
        "(flows: order_etl)",
        "dagy.toml:7:1: deployment 'gone': pipelines/missing.py does not exist",
        "dagy.toml:11:1: deployment 'two': pipelines/data/two.py holds several flows "
        "(first, second)",
        "dagy.toml:18:1: schedule '0 6 * * 8': bad day of week '8'",
        f"dagy.toml:20:1: deployment 'stray': scripts/stray.py {outside}",
        "pipelines/bad/dagy.toml:3:7: invalid TOML: Invalid value",
        "pipelines/data/orders.py:20:1: flow order_etl@2.1.0 is defined more than once: "
        "pipelines/data/copy.py:20 and pipelines/data/orders.py:20",
        "pipelines/my dir/spaced.py:10:1: the namespace derived from the folder of "
        "this flow file, 'my dir', is invalid",
        "pipelines/team/dagy.toml:7:1: unknown deployment key 'colour'",
        # the entry with the unknown key is left out, so the two others clash
        "pipelines/team/dagy.toml:9:1: deployment 'orders-prod' is defined more than once: "
        "dagy.toml:3 and pipelines/team/dagy.toml:9",
        f"scripts/stray.py:10:1: this flow file {outside}",
    ]
    analyser = [line for line in lines if line.startswith("pipelines/data/broken.py:4:")]
    assert len(analyser) == 1 and "bad@name" in analyser[0]
    assert err == f"{len(lines)} problems in 7 files"


def test_the_clash_of_a_named_file_is_found_across_the_repository(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "a/orders.py", ORDER_ETL)
    write(repo, "b/orders_copy.py", ORDER_ETL)
    write(repo, "c/broken.py", "from dagy import flow\n\n@flow(name='bad@name')\ndef f(): ...\n")
    commit_all(repo)
    code, lines, err = run(capsys, repo, "a/orders.py")
    assert code == 1
    assert lines == [
        "a/orders.py:20:1: flow order_etl@2.1.0 is defined more than once: "
        "a/orders.py:20 and b/orders_copy.py:20"
    ]  # and nothing about c/broken.py, which was not named
    assert err == "1 problem in 1 file"
    code, lines, _ = run(capsys, repo, "b/orders_copy.py")
    assert lines == [
        "b/orders_copy.py:20:1: flow order_etl@2.1.0 is defined more than once: "
        "a/orders.py:20 and b/orders_copy.py:20"
    ]


def test_named_paths_missing_outside_or_not_ours(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "flows/ok.py", ORDER_ETL)
    write(tmp_path, "elsewhere.py", ORDER_ETL)
    code, lines, _ = run(
        capsys, repo, "flows/ok.py", "README.md", "flows/nope.py", "../elsewhere.py"
    )
    assert code == 1
    assert lines == [
        "flows/nope.py:1:1: no such file or directory",
        "../elsewhere.py:1:1: outside the repository",
    ] or lines == [
        "../elsewhere.py:1:1: outside the repository",
        "flows/nope.py:1:1: no such file or directory",
    ]


def test_a_folder_checks_the_files_below_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "flows/a.py", simple("a"))
    write(repo, "flows/deep/b.py", simple("b"))
    write(repo, "flows/deep/dagy.toml", '[tags]\nteam = "x"\n')
    write(repo, "other/c.py", simple("c"))
    assert run(capsys, repo, "flows") == (0, [], "checked 2 flows in 3 files: ok")


def test_paths_are_shown_relative_to_the_working_directory(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "dagy.toml", 'remote = "-x"\n')
    write(repo, "flows/etl/bad.py", "from dagy import flow\n\n@flow(retries='x')\ndef f(): ...\n")
    code, lines, _ = run(capsys, repo / "flows", "etl/bad.py")
    assert code == 1
    # settings problems are always reported: they change how every file is checked
    assert lines[0] == "../dagy.toml:1:1: setting 'remote': '-x' is not a remote name"
    assert lines[1].startswith("etl/bad.py:3:")


def test_namespaces_are_only_checked_with_a_namespace_root(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without namespace_root the namespace depends on where deploy runs: nothing to check.
    write(repo, "my dir/x.py", simple("x"))
    assert run(capsys, repo)[0] == 0
    write(repo, "dagy.toml", 'namespace_root = "."\n')
    assert run(capsys, repo)[1] == [
        "my dir/x.py:10:1: the namespace derived from the folder of this flow file, 'my dir', "
        "is invalid"
    ]


def test_flow_paths_select_what_is_checked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "pyproject.toml", '[tool.dagy-git]\nflow_paths = ["flows/**/*.py"]\n')
    write(repo, "flows/x/ok.py", simple("ok"))
    write(repo, "tools/not_a_flow.py", "import dagy\nthis is not python\n")
    assert run(capsys, repo) == (0, [], "checked 1 flow in 1 file: ok")


def test_an_ignored_file_named_explicitly_is_checked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, ".gitignore", "scratch/\n")
    write(repo, "scratch/try.py", "from dagy import flow\n\n@flow(name='a@b')\ndef f(): ...\n")
    assert run(capsys, repo)[0] == 0
    code, lines, _ = run(capsys, repo, "scratch/try.py")
    assert code == 1 and lines[0].startswith("scratch/try.py:3:")


def test_validate_repo_api_returns_sorted_problems(repo: Path) -> None:
    write(repo, "b/dagy.toml", "x = 1\n")
    write(repo, "a/dagy.toml", "[tags]\n'bad key' = 'v'\n")
    problems = validate_repo(repo)
    assert problems == [
        Problem("a/dagy.toml", 2, 1, "invalid tag key 'bad key'"),
        Problem("b/dagy.toml", 1, 1, "unknown key 'x'"),
    ]
    assert problems[1].hint and "[[deployments]]" in problems[1].hint
    assert str(problems[0]) == "a/dagy.toml:2:1: invalid tag key 'bad key'"
    assert check_repo(repo, []).problems == []


def test_validate_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "flows/a.py", ORDER_ETL)
    write(repo, "flows/b.py", ORDER_ETL)
    commit_all(repo)
    refs = git(repo, "for-each-ref")
    assert run(capsys, repo)[0] == 1
    assert git(repo, "status", "--porcelain", "--ignored") == ""
    assert git(repo, "for-each-ref") == refs


def test_outside_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, tmp_path)
    assert (code, lines) == (1, [])
    assert err.startswith("error: ") and "not inside a git repository" in err


def test_exit_codes_of_the_real_command(repo: Path, tmp_path: Path) -> None:
    write(repo, "flows/a.py", ORDER_ETL)
    ok = run_cli("validate", cwd=repo)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "checked 1 flow in 1 file: ok\n")
    write(repo, "flows/b.py", ORDER_ETL)
    bad = run_cli("validate", "flows/b.py", cwd=repo)
    assert bad.returncode == 1
    assert bad.stdout.startswith("flows/b.py:20:1: flow order_etl@2.1.0 is defined more than")
    assert bad.stderr == "1 problem in 1 file\n"
    outside = run_cli("validate", cwd=tmp_path)
    assert outside.returncode == 1 and "not inside a git repository" in outside.stderr
    assert "Traceback" not in outside.stderr


@pytest.mark.slow
def test_a_thousand_flows_validate(repo: Path) -> None:
    """Every one of 1,000 flows and 50 manifests is checked (the time it takes is the
    bench figure `specs.validate`)."""
    for i in range(1000):
        write(repo, f"team{i % 50}/flows/flow_{i}.py", simple(f"etl_{i}", function=f"etl_{i}"))
    for i in range(50):
        write(repo, f"team{i}/dagy.toml", f'[tags]\nteam = "t{i}"\n[[deployments]]\n'
              f'name = "d{i}"\nflow = "flows/flow_{i}.py"\nschedule = "@daily"\n')  # fmt: skip
    commit_all(repo)
    proc = run_cli("validate", cwd=repo)
    assert proc.returncode == 0, proc.stdout
    assert proc.stderr == "checked 1000 flows in 1050 files: ok\n"


def test_settings_problems_in_pyproject(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "pyproject.toml", '[project]\nname = "x"\n\n[tool.dagy-git]\ntag_prefix = "x"\n')
    write(repo, "flows/a.py", ORDER_ETL)
    code, lines, err = run(capsys, repo, "flows/a.py")
    assert (code, err) == (1, "1 problem in 1 file")
    assert lines == ["pyproject.toml:5:1: setting 'tag_prefix': 'x' is not a valid tag prefix"]
    write(repo, "dagy.toml", 'remote = "upstream"\n')
    assert run(capsys, repo, "flows/a.py")[1] == [
        "pyproject.toml:5:1: settings are in both dagy.toml and pyproject.toml [tool.dagy-git]"
    ]


# -- levels, each problem once, and a bad file elsewhere -------------------------------------
BROKEN_TASKS = """
from dagy import task


@task(retries=-1)
def extract(source: str) -> list:
    ...
"""

USES_BROKEN = """
from dagy import flow
from common.tasks import extract


@flow(name="{name}")
def {name}():
    return extract("s3://x")
"""


def test_each_problem_is_printed_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken task imported by two flows: its problem once, the call sites point at it."""
    write(repo, "common/__init__.py", "")
    write(repo, "common/tasks.py", BROKEN_TASKS)
    write(repo, "flows/a.py", USES_BROKEN.format(name="a"))
    write(repo, "flows/b.py", USES_BROKEN.format(name="b"))
    code, lines, _ = run(capsys, repo)
    assert code == 1
    assert sum("retries must be a whole number" in line for line in lines) == 1
    assert lines[0].startswith("common/tasks.py:4:")
    for line in lines:  # no message repeats another reported problem's text
        message = line.split(": ", 1)[1]
        assert not any(other != line and other in message for other in lines)
    assert any(line.startswith("flows/a.py:") for line in lines)
    assert any(line.startswith("flows/b.py:") for line in lines)


def test_warnings_are_reported_and_fail_only_when_strict() -> None:
    error = Problem("flows/a.py", 3, 1, "syntax error: invalid syntax")
    warning = Problem("flows/b.py", 7, 5, "retries is computed", "use a literal", "warning")
    assert (error.level, warning.level) == ("error", "warning")
    only_warnings = Report([warning], flows=1, files=1)
    assert not only_warnings.fails() and only_warnings.fails(strict=True)
    both = Report([error, warning], flows=1, files=2)
    assert both.fails() and (both.errors, both.warnings) == ([error], [warning])
    assert validate_cmd.summary(only_warnings) == "1 warning in 1 file"
    assert validate_cmd.summary(only_warnings, True) == "1 warning (--strict: failing) in 1 file"
    assert validate_cmd.summary(both) == "1 error, 1 warning in 2 files"
    assert warning.to_json() == {
        "path": "flows/b.py",
        "line": 7,
        "col": 5,
        "level": "warning",
        "message": "retries is computed",
        "hint": "use a literal",
    }


def test_warnings_are_rendered_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    warning = Problem("flows/b.py", 7, 5, "retries is computed", "use a literal", "warning")
    report = Report([Problem("a.py", 1, 2, "bad, really: x"), warning], flows=1, files=2)
    validate_cmd.render(report, tmp_path, tmp_path)
    assert capsys.readouterr().out.splitlines() == [
        "a.py:1:2: bad, really: x",
        "flows/b.py:7:5: warning: retries is computed",
        "  hint: use a literal",
    ]
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    validate_cmd.render(report, tmp_path, tmp_path, "github")
    assert capsys.readouterr().out.splitlines() == [
        "::error file=a.py,line=1,col=2::bad, really: x",
        "::warning file=flows/b.py,line=7,col=5::retries is computed%0Ahint: use a literal",
    ]


def test_json_and_github_formats_of_the_real_command(repo: Path) -> None:
    write(repo, "flows/ok.py", ORDER_ETL)
    write(repo, "flows/bad.py", "from dagy import flow\n\n@flow\ndef f(:\n    pass\n")
    proc = run_cli("validate", "--json", cwd=repo)
    assert proc.returncode == 1
    (problem,) = json.loads(proc.stdout)
    assert set(problem) == {"path", "line", "col", "level", "message", "hint"}
    assert (problem["path"], problem["line"], problem["level"]) == ("flows/bad.py", 4, "error")
    assert problem["message"].startswith("syntax error")
    github = run_cli(
        "validate", "--format", "github", cwd=repo, env={"GITHUB_WORKSPACE": str(repo.parent)}
    )
    assert github.returncode == 1
    assert github.stdout.startswith(f"::error file={repo.name}/flows/bad.py,line=4,col=")
    assert run_cli("validate", "--strict", "flows/ok.py", cwd=repo).returncode == 0
    unknown = run_cli("validate", "--format", "xml", cwd=repo)
    assert unknown.returncode == 2 and "unknown format 'xml'" in unknown.stderr
    outside = run_cli("validate", "--json", cwd=repo.parent)
    assert outside.returncode == 1 and "not inside a git repository" in outside.stdout


def test_a_bad_file_elsewhere_never_makes_validate_fail_unexpectedly(repo: Path) -> None:
    write(repo, "flows/a.py", ORDER_ETL)
    write(repo, "deep/dagy.toml", "x = " + "[" * 3000 + "]" * 3000 + "\n")
    write(repo, "long/dagy.toml", f'[[deployments]]\nname = "d"\nflow = "{"a" * 5000}.py"\n')
    commit_all(repo)
    named = run_cli("validate", "flows/a.py", cwd=repo)
    assert (named.returncode, named.stderr) == (0, "checked 1 flow in 1 file: ok\n")
    every = run_cli("validate", cwd=repo)
    assert every.returncode == 1 and "Traceback" not in every.stderr
    assert every.stdout.startswith("deep/dagy.toml:1:1: invalid TOML: arrays or tables nest")
    assert "long/dagy.toml:1:1: deployment 'd': " in every.stdout


def test_an_analyser_failure_is_the_files_problem(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of the analyser on one file: reported on that file, the rest still checked."""
    from dagy_git import validation

    real = validation.analyze_source

    def trips_on_c(source: bytes, path: str, **kw: Any) -> Any:
        if path == "flows/c.py":
            raise IndexError("list index out of range")
        return real(source, path, **kw)

    monkeypatch.setattr(validation, "analyze_source", trips_on_c)
    write(repo, "flows/a.py", ORDER_ETL)
    write(repo, "flows/c.py", ORDER_ETL.replace("order_etl", "order_etl_copy"))
    assert run(capsys, repo, "flows/a.py")[0] == 0
    code, lines, _ = run(capsys, repo)
    assert code == 1
    assert lines == [
        "flows/c.py:1:1: the analyser failed on this file (IndexError: list index out of range)"
    ]


def test_a_repeated_problem_is_cut_to_its_location_also_with_spaces_in_paths() -> None:
    from dagy_git.validation import _unnested

    root = Problem("my tasks/tasks.py", 7, 12, "@task retries must be a whole number >= 0")
    site = Problem("flows/a.py", 6, 5, f"task 'load' cannot be used: see {root}")
    other = Problem("flows/b.py", 2, 1, "mentions my tasks/tasks.py:7:12: but says more")
    assert _unnested([root, site, other]) == [
        root,
        Problem("flows/a.py", 6, 5, "task 'load' cannot be used: see my tasks/tasks.py:7:12"),
        other,
    ]


def test_a_real_warning_fails_only_when_strict(repo: Path) -> None:
    write(
        repo,
        "flows/approx.py",
        """
        import os
        from dagy import flow, task

        @task(retries=int(os.environ.get("RETRIES", "2")))
        def extract(): ...

        @flow(name="Approximate Flow")
        def approx():
            extract()
        """,
    )
    commit_all(repo)
    lenient = run_cli("validate", cwd=repo)
    assert lenient.returncode == 0, lenient.stderr
    assert lenient.stdout.startswith("flows/approx.py:4:15: warning: ")
    assert lenient.stderr == "1 warning in 1 file\n"
    strict = run_cli("validate", "--strict", "--format", "github", cwd=repo)
    assert strict.returncode == 1
    assert strict.stdout.startswith("::warning file=flows/approx.py,line=4,col=15::")
    assert json.loads(run_cli("validate", "--json", cwd=repo).stdout)[0]["level"] == "warning"
    deployed = run_cli("deploy", "--all", "--keep-going", "--json", cwd=repo)
    assert deployed.returncode == 0, deployed.stderr  # a warning never stops a deploy
    assert json.loads(deployed.stdout)["failed"] == []
