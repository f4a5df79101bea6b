"""The Flows UI's templates and static files ship in the wheel: `package-data` covers them."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_and_static_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["dagy_git"]
    package = ROOT / "dagy_git"
    files = [
        p.relative_to(package).as_posix()
        for folder in ("server/templates", "server/static")
        for p in (package / folder).iterdir()
        if p.is_file()
    ]
    assert "server/templates/flows.html" in files and "server/static/ui.css" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert missing == []
