"""Schedules through croniter, time zones, and schedules in words (issue 8, item 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagy_git.cron import describe_schedule, validate_schedule, validate_timezone
from dagy_git.errors import ConfigError
from dagy_git.models import DeploymentRecord

from conftest import ORDER_ETL, commit_all, git, run_cli, write


@pytest.mark.parametrize(
    "schedule",
    ["0 0 L * *", "0 9 * * mon#1", "0 0 15W * *", "0 0 ? * MON", "0 0 L 2 *", "0 0 29 2 *"],
)
def test_croniter_extensions_are_accepted(schedule: str) -> None:
    assert validate_schedule(schedule) == schedule


@pytest.mark.parametrize("schedule", ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 2 *"])
def test_dates_that_never_come_are_refused(schedule: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_schedule(schedule)
    assert "never runs" in str(info.value)


def test_reversed_ranges_and_seconds_are_refused() -> None:
    with pytest.raises(ConfigError, match="runs from low to high"):
        validate_schedule("10-5 * * * *")
    with pytest.raises(ConfigError, match="has 6 fields, not 5"):
        validate_schedule("0 0 1 1 * 30")


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_iana_time_zones(name: str) -> None:
    assert validate_timezone(name) == name


@pytest.mark.parametrize("name", ["Mars/Base", "../../etc/passwd", "/etc/localtime", "", " UTC"])
def test_bad_time_zones_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        validate_timezone(name)


def test_schedules_in_words() -> None:
    assert describe_schedule("0 6 * * 1-5", "Europe/Paris") == (
        "At 06:00, Monday through Friday (Europe/Paris)"
    )
    assert describe_schedule("@daily") == "At 00:00 (UTC)"
    assert describe_schedule("0 9 * * mon#1") == "At 09:00, on the first Monday of the month (UTC)"


def test_an_unset_timezone_stays_out_of_the_record() -> None:
    fields = {
        "name": "d",
        "flow_name": "f",
        "flow_version": "1",
        "created_at": "t",
        "updated_at": "t",
    }
    assert "timezone" not in DeploymentRecord(**fields).model_dump(mode="json")
    zoned = DeploymentRecord(**fields, timezone="Europe/Paris").model_dump(mode="json")
    assert zoned["timezone"] == "Europe/Paris"


MANIFEST = """
[[deployments]]
name = "etl-prod"
flow = "flows/etl.py"
schedule = "{schedule}"
{extra}
"""


def test_manifest_timezone_is_deployed_checked_and_described(repo: Path) -> None:
    write(repo, "flows/etl.py", ORDER_ETL)
    write(repo, "dagy.toml", MANIFEST.format(schedule="0 6 * * 1-5", extra=""))
    commit_all(repo)
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    stored = json.loads(git(repo, "show", "dagy/registry:deployments/etl-prod.json"))
    assert "timezone" not in stored  # format 1 unchanged while unset
    write(
        repo, "dagy.toml", MANIFEST.format(schedule="0 6 * * 1-5", extra='timezone = "Mars/Base"')
    )
    commit_all(repo)
    bad = run_cli("validate", cwd=repo)
    assert bad.returncode == 1 and "dagy.toml:5:1: unknown timezone 'Mars/Base'" in bad.stdout
    tip = git(repo, "rev-parse", "dagy/registry")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 1
    assert git(repo, "rev-parse", "dagy/registry") == tip
    write(
        repo,
        "dagy.toml",
        MANIFEST.format(schedule="0 6 * * 1-5", extra='timezone = "Europe/Paris"'),
    )
    commit_all(repo)
    done = json.loads(run_cli("deploy", "--all", "--json", cwd=repo).stdout)
    assert done["results"][0]["reason"] == "timezone changed"
    (dep,) = json.loads(run_cli("deployments", "--json", cwd=repo).stdout)
    assert dep["timezone"] == "Europe/Paris"
    assert dep["schedule_description"] == "At 06:00, Monday through Friday (Europe/Paris)"
    table = run_cli("deployments", cwd=repo).stdout
    assert "Monday through Friday (Europe/Paris)" in table
    shown = run_cli("show", "order_etl", cwd=repo).stdout
    line = next(x for x in shown.splitlines() if x.startswith("  etl-prod:"))
    assert line.split(None, 1)[1] == "0 6 * * 1-5  (At 06:00, Monday through Friday (Europe/Paris))"
    impossible = MANIFEST.format(schedule="0 0 30 2 *", extra="")
    write(repo, "dagy.toml", impossible)
    assert "never runs" in run_cli("validate", cwd=repo).stdout
