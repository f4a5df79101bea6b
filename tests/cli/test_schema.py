"""`dagy-git schema`: the JSON Schema of dagy.toml holds every example config we ship."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dagy_git.cli.commands.init import STARTER
from dagy_git.cli.commands.schema import schema_text

from conftest import ROOT, run_cli

FENCE = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def check(schema: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    """check-jsonschema, the tool CI and editors' users run, on TOML instance files."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def example_configs(tmp: Path) -> list[Path]:
    """Every dagy.toml we show people: examples/, the TOML blocks of the README and docs
    (pyproject ones excepted) and the file `init` writes."""
    files = sorted((ROOT / "examples").rglob("dagy.toml"))
    assert len(files) >= 4
    texts = {"init.toml": STARTER}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, block in enumerate(FENCE.findall(doc.read_text("utf-8"))):
            if "[tool." in block or "[project" in block:
                continue
            texts[f"{doc.stem}-{n}.toml"] = block
    assert len(texts) >= 3
    for name, text in texts.items():
        path = tmp / name
        path.write_text(text, "utf-8")
        files.append(path)
    return files


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "dagy-toml.schema.json"
    path.write_text(schema_text(), "utf-8")
    return path


def test_schema_command_prints_the_shipped_schema() -> None:
    proc = run_cli("schema", cwd=Path.cwd())
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["title"] == "dagy.toml"
    deployment = schema["$defs"]["deployment"]["properties"]
    assert {"name", "flow", "schedule", "timezone", "parameters", "tags"} <= set(deployment)
    assert {"task_modules", "sdk_modules", "namespace_root"} <= set(schema["properties"])


def test_every_example_config_is_valid(schema_file: Path, tmp_path: Path) -> None:
    meta = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--check-metaschema", str(schema_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert meta.returncode == 0, meta.stdout + meta.stderr
    files = example_configs(tmp_path)
    proc = check(schema_file, files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "text",
    [
        'schedul = "0 6 * * *"\n',  # a misspelt key
        '[[deployments]]\nname = "-bad"\nflow = "a.py"\n',
        '[[deployments]]\nname = "ok"\n',  # no flow
        '[[deployments]]\nname = "ok"\nflow = "a.py"\nschedule = 5\n',
        '[tags]\n"bad key" = "x"\n',
    ],
)
def test_mistakes_fail_the_schema(schema_file: Path, tmp_path: Path, text: str) -> None:
    path = tmp_path / "dagy.toml"
    path.write_text(text, "utf-8")
    assert check(schema_file, [path]).returncode == 1
