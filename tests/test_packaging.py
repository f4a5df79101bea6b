"""Packaging: what `pip install dagy-git` gets, and what a release's sdist holds."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_metadata_names_a_license_file_urls_and_classifiers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / project["license-files"][0]).read_text()[:200]
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert any(
        c.startswith("Programming Language :: Python :: 3.10") for c in project["classifiers"]
    )
    # typer before 0.18 prints the version for every subcommand with click 8.3
    typer = next(d for d in project["dependencies"] if d.startswith("typer"))
    assert typer == "typer>=0.18"


@pytest.mark.slow
def test_the_sdist_and_wheel_hold_the_package_and_its_data(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = names[0].split("/")[0]
    assert f"{top}/LICENSE" in names and f"{top}/README.md" in names
    assert f"{top}/dagy_git/dagy-toml.schema.json" in names
    # tests need the whole checkout: the sdist leaves them out rather than ship broken ones
    assert not [n for n in names if "/tests/" in n]
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = archive.namelist()
    assert "dagy_git/dagy-toml.schema.json" in inside
    assert "dagy_git/templates/pre-commit" in inside
    assert any(n.endswith("licenses/LICENSE") for n in inside)
