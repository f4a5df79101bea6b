"""Settings, manifests, tag inheritance, flow discovery and cron schedules (real git repos)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dagy_git import gitio
from dagy_git.config import Settings, load_settings
from dagy_git.cron import validate_schedule
from dagy_git.discovery import discover_flow_files, glob_matcher
from dagy_git.errors import ConfigError
from dagy_git.gitobjects import valid_refname
from dagy_git.manifests import (
    collect_manifests,
    inherited_tags,
    load_manifests,
)

from conftest import write


def settings_error(repo: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(repo)
    return str(info.value)


def manifest_error(repo: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_manifests(repo)
    return str(info.value)


# ---------------------------------------------------------------- settings


def test_defaults_without_any_config(repo: Path) -> None:
    settings = load_settings(repo)
    assert settings == Settings(repo_root=repo)
    assert (settings.registry_branch, settings.tag_prefix, settings.remote) == (
        "dagy/registry",
        "dagy/",
        "origin",
    )
    assert settings.namespace_root is None and settings.flow_paths == ()
    assert settings.mutable_versions == ("latest",) and settings.config_path is None


def test_settings_from_root_dagy_toml(repo: Path) -> None:
    write(
        repo,
        "dagy.toml",
        """
        registry_branch = "ops/flows"
        tag_prefix = "flows/"
        namespace_root = "pipelines/"
        flow_paths = ["pipelines/**/*.py"]
        remote = "upstream"
        mutable_versions = ["latest", "dev"]
        immutable_versions = true

        [tags]
        team = "data-eng"
        """,
    )
    settings = load_settings(repo)
    assert settings.registry_branch == "ops/flows"
    assert settings.tag_prefix == "flows/"
    assert settings.namespace_root == "pipelines"
    assert settings.flow_paths == ("pipelines/**/*.py",)
    assert settings.remote == "upstream"
    assert settings.mutable_versions == ("latest", "dev")
    assert settings.immutable_versions is True
    assert settings.config_path == "dagy.toml"


def test_settings_from_pyproject(repo: Path) -> None:
    write(
        repo,
        "pyproject.toml",
        """
        [project]
        name = "flows"

        [tool.dagy-git]
        registry_branch = "registry"
        namespace_root = "."
        """,
    )
    settings = load_settings(repo)
    assert settings.registry_branch == "registry"
    assert settings.namespace_root == ""
    assert settings.config_path == "pyproject.toml"


def test_pyproject_without_our_table_is_ignored(repo: Path) -> None:
    write(repo, "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    assert load_settings(repo).config_path is None


def test_settings_in_both_files_is_an_error_naming_both(repo: Path) -> None:
    write(repo, "dagy.toml", 'remote = "a"\n')
    write(repo, "pyproject.toml", '[tool.dagy-git]\nremote = "b"\n')
    message = settings_error(repo)
    assert message.startswith("pyproject.toml:2:1: ")
    assert "dagy.toml" in message and "pyproject.toml [tool.dagy-git]" in message


def test_tags_only_root_manifest_does_not_clash_with_pyproject(repo: Path) -> None:
    write(repo, "dagy.toml", '[tags]\nteam = "x"\n')
    write(repo, "pyproject.toml", '[tool.dagy-git]\nremote = "b"\n')
    assert load_settings(repo).remote == "b"


def test_unknown_setting_names_file_key_and_line(repo: Path) -> None:
    write(repo, "dagy.toml", 'remote = "origin"\n\nregistry = "x"\n')
    assert settings_error(repo).startswith("dagy.toml:3:1: ")
    write(repo, "pyproject.toml", '[project]\nname = "x"\n\n[tool.dagy-git]\ncolour = "red"\n')
    (repo / "dagy.toml").unlink()
    assert settings_error(repo) == "pyproject.toml:5:1: unknown setting 'colour'"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("flow_paths = 'flows/*.py'", "setting 'flow_paths': must be a list, got string"),
        ("immutable_versions = 'yes'", "setting 'immutable_versions': must be a boolean"),
        ("remote = 1", "setting 'remote': must be a string, got int"),
        ("flow_paths = [1]", "setting 'flow_paths': must be a list of non-empty strings"),
        ("registry_branch = 'a..b'", "'a..b' is not a valid git branch name"),
        ("registry_branch = '-x'", "'-x' is not a valid git branch name"),
        ("registry_branch = '@{-1}'", "'@{-1}' is not a valid git branch name"),
        ("tag_prefix = 'dagy'", "'dagy' is not a valid tag prefix"),
        ("tag_prefix = 'da..gy/'", "'da..gy/' is not a valid tag prefix"),
        ("remote = '--upload-pack=evil'", "'--upload-pack=evil' is not a remote name"),
        ("namespace_root = '../outside'", "'../outside' points outside the repository"),
        ("namespace_root = 'a/../../b'", "'a/../../b' points outside the repository"),
        ("namespace_root = '/etc'", "'/etc' must be a relative '/'-separated path"),
        ("flow_paths = ['../*.py']", "glob '../*.py' must be relative to the repository root"),
        ("mutable_versions = ['']", "must be a list of non-empty strings"),
    ],
)
def test_bad_setting_values(repo: Path, line: str, expected: str) -> None:
    write(repo, "dagy.toml", f"# settings\n{line}\n")
    message = settings_error(repo)
    assert message.startswith("dagy.toml:2:1: setting ")
    assert expected in message


def test_namespace_root_through_a_symlink_out_of_the_repo(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", repo / "link")
    write(repo, "dagy.toml", 'namespace_root = "link"\n')
    assert "points outside the repository" in settings_error(repo)


def test_malformed_toml_gives_file_line_and_column(repo: Path) -> None:
    write(repo, "dagy.toml", '[tags]\nteam = "data-eng"\nenv = prod\n')
    message = settings_error(repo)
    assert message.startswith("dagy.toml:3:7: invalid TOML: ")
    with pytest.raises(ConfigError) as info:
        load_manifests(repo)
    assert (info.value.path, info.value.line, info.value.col) == ("dagy.toml", 3, 7)


def test_toml_cut_short_points_at_the_end(repo: Path) -> None:
    write(repo, "sub/dagy.toml", '[tags]\nteam = "x"\nenv =')
    message = manifest_error(repo)
    assert message.startswith("sub/dagy.toml:3:1: invalid TOML: ")
    assert "end of the file" in message


def test_non_utf8_manifest(repo: Path) -> None:
    (repo / "team").mkdir()
    (repo / "team" / "dagy.toml").write_bytes(b'[tags]\nteam = "caf\xe9"\n')
    message = manifest_error(repo)
    assert message == "team/dagy.toml:2:1: not UTF-8 text"


# ---------------------------------------------------------------- manifests

MANIFEST = """
[tags]
team = "data-eng"
"cost-center" = "analytics"

[[deployments]]
name = "order-etl-prod"
flow = "etl/orders.py:order_etl"
schedule = "0 6 * * *"
namespace = "data/orders"
flow_version = "2.1.0"
parameters = { source = "s3://data/orders/", limit = 10, nested = { deep = [1, 2] } }

[deployments.tags]
env = "prod"
criticality = "high"

[[deployments]]
name = "order-etl-staging"
flow = "etl/orders.py"
tags = { env = "staging" }
"""


def test_deployments_are_parsed_relative_to_the_manifest(repo: Path) -> None:
    write(repo, "pipelines/dagy.toml", MANIFEST)
    [manifest] = load_manifests(repo)
    assert manifest.path == "pipelines/dagy.toml"
    assert manifest.directory == "pipelines"
    assert manifest.tags == {"team": "data-eng", "cost-center": "analytics"}
    prod, staging = manifest.deployments
    assert prod.name == "order-etl-prod"
    assert prod.flow_path == "pipelines/etl/orders.py"
    assert prod.function == "order_etl"
    assert prod.schedule == "0 6 * * *"
    assert prod.namespace == "data/orders" and prod.flow_version == "2.1.0"
    assert prod.parameters == {
        "source": "s3://data/orders/",
        "limit": 10,
        "nested": {"deep": [1, 2]},
    }
    assert prod.tags == {"env": "prod", "criticality": "high"}
    assert (prod.manifest, prod.line) == ("pipelines/dagy.toml", 5)
    assert staging.function is None and staging.schedule is None
    assert staging.namespace is None and staging.flow_version is None
    assert staging.tags == {"env": "staging"} and staging.parameters == {}
    assert staging.line == 17


def test_flow_path_may_go_up_but_not_out(repo: Path) -> None:
    write(repo, "a/b/dagy.toml", '[[deployments]]\nname = "x"\nflow = "../shared/f.py:f"\n')
    [manifest] = load_manifests(repo)
    assert manifest.deployments[0].flow_path == "a/shared/f.py"


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        ('name = "x"\nflow = "../../x.py"', 3, "flow '../../x.py' points outside the repository"),
        ('name = "x"\nflow = "/etc/x.py"', 3, "must be a relative '/'-separated path"),
        ('name = "x"\nflow = "C:/x.py"', 3, "must be a relative '/'-separated path"),
        ('name = "x"\nflow = "etl\\\\x.py"', 3, "must be a relative '/'-separated path"),
        ('name = "x"\nflow = "x.txt"', 3, "flow 'x.txt' must name a .py file"),
        ('name = "x"\nflow = "x.py:not a name"', 3, "'not a name' is not a function name"),
        ('flow = "x.py"', 1, "deployment is missing 'name'"),
        ('name = "x"', 1, "deployment is missing 'flow'"),
        ('name = "bad name"\nflow = "x.py"', 2, "invalid deployment name 'bad name'"),
        ('name = 7\nflow = "x.py"', 2, "deployment 'name' must be a string, got int"),
        ('name = "x"\nflow = "x.py"\nschedul = "@daily"', 4, "unknown deployment key 'schedul'"),
        ('name = "x"\nflow = "x.py"\nschedule = "0 25 * * *"', 4, "bad hour '25'"),
        ('name = "x"\nflow = "x.py"\nnamespace = "/data"', 4, "invalid namespace '/data'"),
        ('name = "x"\nflow = "x.py"\nflow_version = ""', 4, "version must not be empty"),
        ('name = "x"\nflow = "x.py"\ntags = { "a b" = "c" }', 4, "invalid tag key 'a b'"),
        ('name = "x"\nflow = "x.py"\ntags = { env = 1 }', 4, "value must be a string"),
        ('name = "x"\nflow = "x.py"\nparameters = 3', 4, "'parameters' must be a table"),
        ('name = "x"\nflow = "x.py"\nparameters = { d = 2024-01-01 }', 4, "TOML date/time"),
    ],
)
def test_bad_deployment_entries(repo: Path, entry: str, line: int, expected: str) -> None:
    write(repo, "team/dagy.toml", f"[[deployments]]\n{entry}\n")
    message = manifest_error(repo)
    assert message.startswith(f"team/dagy.toml:{line}:1: "), message
    assert expected in message


def test_the_nth_deployment_is_located(repo: Path) -> None:
    text = '[[deployments]]\nname = "a"\nflow = "a.py"\n\n[[deployments]]\nname = "b"\nflow = 1\n'
    write(repo, "dagy.toml", text)
    assert manifest_error(repo) == "dagy.toml:7:1: deployment 'flow' must be a string, got int"


def test_every_manifest_problem_is_collected(repo: Path) -> None:
    write(repo, "a/dagy.toml", 'colour = "red"\n[tags]\n"bad key" = "x"\n')
    write(repo, "b/dagy.toml", 'remote = "x"\n[[deployments]]\nname = "ok"\nflow = "f.py"\n')
    manifests, errors = collect_manifests(repo)
    assert [str(e) for e in errors] == [
        "a/dagy.toml:1:1: unknown key 'colour'",
        "a/dagy.toml:3:1: invalid tag key 'bad key'",
        "b/dagy.toml:1:1: setting 'remote' is only read from the repository root's dagy.toml",
    ]
    assert [m.path for m in manifests] == ["a/dagy.toml", "b/dagy.toml"]
    assert manifests[1].deployments[0].flow_path == "b/f.py"


def test_wrong_shapes(repo: Path) -> None:
    write(repo, "dagy.toml", 'tags = "team"\n')
    assert manifest_error(repo) == "dagy.toml:1:1: tags must be a table of strings, got string"
    write(repo, "dagy.toml", 'deployments = { name = "x" }\n')
    assert "deployments must be an array of tables" in manifest_error(repo)


def test_duplicate_deployment_names_name_both_manifests(repo: Path) -> None:
    entry = '[[deployments]]\nname = "etl"\nflow = "f.py"\n'
    write(repo, "a/dagy.toml", entry)
    write(repo, "b/dagy.toml", "# second\n" + entry)
    message = manifest_error(repo)
    assert message.startswith("b/dagy.toml:2:1: deployment 'etl' is defined more than once")
    assert "a/dagy.toml:1" in message and "b/dagy.toml:2" in message


def test_manifests_in_ignored_folders_are_skipped(repo: Path) -> None:
    write(repo, ".gitignore", ".venv/\n")
    write(repo, ".venv/lib/dagy.toml", "this is not toml = = =\n")
    write(repo, "flows/dagy.toml", '[tags]\nteam = "x"\n')
    assert [m.path for m in load_manifests(repo)] == ["flows/dagy.toml"]


def test_inherited_tags_deeper_wins_per_key(repo: Path) -> None:
    write(repo, "dagy.toml", '[tags]\nteam = "platform"\nenv = "dev"\n')
    write(repo, "data/dagy.toml", '[tags]\nteam = "data-eng"\n')
    write(repo, "data/orders/dagy.toml", '[tags]\ncriticality = "high"\n')
    write(repo, "database/dagy.toml", '[tags]\nteam = "dba"\n')
    manifests = load_manifests(repo)
    assert inherited_tags(manifests, "data/orders/etl/load.py") == {
        "team": "data-eng",
        "env": "dev",
        "criticality": "high",
    }
    assert inherited_tags(manifests, "data/x.py") == {"team": "data-eng", "env": "dev"}
    # `database/` is not below `data/`, whatever the common prefix
    assert inherited_tags(manifests, "database/x.py") == {"team": "dba", "env": "dev"}
    assert inherited_tags(manifests, "top.py") == {"team": "platform", "env": "dev"}


# ---------------------------------------------------------------- discovery

FLOW = "from dagy import flow\n\n\n@flow\ndef f():\n    pass\n"


def test_discovery_by_globs(repo: Path) -> None:
    for rel in ("flows/a.py", "flows/deep/er/b.py", "flows/notes.txt", "other/c.py", "d.py"):
        write(repo, rel, FLOW)
    settings = Settings(repo_root=repo, flow_paths=("flows/**/*.py", "d.py"))
    assert discover_flow_files(settings) == ["d.py", "flows/a.py", "flows/deep/er/b.py"]


def test_discovery_by_mention_of_dagy(repo: Path) -> None:
    write(repo, ".gitignore", ".venv/\n")
    write(repo, "flows/a.py", FLOW)
    write(repo, "flows/util.py", "def helper():\n    return 1\n")
    write(repo, ".venv/site/dagy_flow.py", FLOW)
    write(repo, "z/b.py", "import dagy\n\n\n@dagy.flow\ndef g():\n    pass\n")
    sources: dict[str, bytes] = {}
    found = discover_flow_files(Settings(repo_root=repo), sources=sources)
    assert found == ["flows/a.py", "z/b.py"]
    assert sources["flows/a.py"] == FLOW.encode()


@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        (["flows/**/*.py"], "flows/a.py", True),
        (["flows/**/*.py"], "flows/x/y/a.py", True),
        (["flows/**/*.py"], "flowsx/a.py", False),
        (["flows/*.py"], "flows/x/a.py", False),
        (["flows"], "flows/x/a.py", True),
        (["./flows/"], "flows/a.py", True),
        (["**/etl_*.py"], "a/b/etl_1.py", True),
        (["**/etl_*.py"], "etl_1.py", True),
        (["f?.py"], "f1.py", True),
        (["f[0-9].py"], "fa.py", False),
        (["f[!0-9].py"], "fa.py", True),
        (["a+b.py"], "a+b.py", True),
    ],
)
def test_glob_matcher(patterns: list[str], path: str, matches: bool) -> None:
    assert glob_matcher(patterns)(path) is matches


def test_a_thousand_flows_and_fifty_manifests_load(repo: Path) -> None:
    for i in range(1000):
        write(repo, f"team{i % 50}/flow_{i}.py", FLOW.replace("def f", f"def f{i}"))
    for i in range(50):
        write(repo, f"team{i}/dagy.toml", f'[tags]\nteam = "t{i}"\n[[deployments]]\n'
              f'name = "d{i}"\nflow = "flow_{i}.py"\nschedule = "*/5 * * * *"\n')  # fmt: skip
    files = gitio.list_files(repo)
    manifests = load_manifests(repo, files)
    found = discover_flow_files(Settings(repo_root=repo), files)
    assert len(manifests) == 50 and len(found) == 1000


# ---------------------------------------------------------------- cron


@pytest.mark.parametrize(
    "schedule",
    [
        "0 6 * * *",
        "*/15 * * * *",
        "0 0 1,15 * *",
        "30 8 * * mon-fri",
        "0 0 * JAN,jul sun",
        "0-30/10 9-17 * * 1-5",
        "5 4 * * 7",
        "0 12 31 12 *",
        "@daily",
        "@hourly",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@midnight",
    ],
)
def test_good_schedules(schedule: str) -> None:
    assert validate_schedule(schedule) == schedule


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("", "has 0 fields, not 5"),
        ("0 6 * *", "has 4 fields, not 5"),
        ("0 6 * * * *", "has 6 fields, not 5"),
        ("60 * * * *", "bad minute '60'"),
        ("* 24 * * *", "bad hour '24'"),
        ("* * 0 * *", "bad day of month '0'"),
        ("* * * 13 *", "bad month '13'"),
        ("* * * * 8", "bad day of week '8'"),
        ("* * * * funday", "bad day of week 'funday'"),
        ("*/0 * * * *", "bad minute '*/0'"),
        ("10-5 * * * *", "bad minute '10-5'"),
        ("1,,2 * * * *", "bad minute '1,,2'"),
        ("a * * * *", "bad minute 'a'"),
        ("@reboot", "unknown schedule '@reboot'"),
        ("@every 5m", "unknown schedule"),
    ],
)
def test_bad_schedules(schedule: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_schedule(schedule)
    assert expected in str(info.value)


def test_ref_name_rules_agree_with_real_git(repo: Path) -> None:
    for ref, ok in [
        ("refs/heads/dagy/registry", True),
        ("refs/heads/dagy/registry.lock", False),
        ("refs/heads/@{-1}", False),
        ("refs/tags/dagy/x", True),
        ("refs/tags/dagy x", False),
    ]:
        real = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False)
        assert valid_refname(ref) is ok is (real.returncode == 0), ref
