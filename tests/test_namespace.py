"""Namespace resolution: explicit, or derived from the flow file's folder (spec rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dagy_git.config import Settings
from dagy_git.errors import DagyError, InvalidNameError
from dagy_git.namespace import derive_namespace, resolve_namespace

from conftest import ORDER_ETL, write


def test_spec_example_cwd_relative(tmp_path: Path) -> None:
    # File: pipelines/data/ingestion/load_orders.py, CWD: pipelines/ -> "data/ingestion"
    flow = write(tmp_path, "pipelines/data/ingestion/load_orders.py", ORDER_ETL)
    cwd = tmp_path / "pipelines"
    assert resolve_namespace(None, flow, Settings(repo_root=tmp_path), cwd) == "data/ingestion"


def test_file_at_the_cwd_root_has_the_empty_namespace(tmp_path: Path) -> None:
    flow = write(tmp_path, "load_orders.py", ORDER_ETL)
    assert resolve_namespace(None, flow, Settings(repo_root=tmp_path), tmp_path) == ""


def test_relative_file_path_is_taken_from_cwd(tmp_path: Path) -> None:
    write(tmp_path, "pipelines/data/x.py", ORDER_ETL)
    settings = Settings(repo_root=tmp_path)
    assert resolve_namespace(None, Path("data/x.py"), settings, tmp_path / "pipelines") == "data"


def test_explicit_namespace_wins_and_is_validated(tmp_path: Path) -> None:
    flow = write(tmp_path, "a/b/x.py", ORDER_ETL)
    settings = Settings(repo_root=tmp_path, namespace_root="a")
    assert resolve_namespace("data/orders", flow, settings, tmp_path) == "data/orders"
    assert resolve_namespace("", flow, settings, tmp_path) == ""
    with pytest.raises(InvalidNameError, match="invalid namespace 'data/'"):
        resolve_namespace("data/", flow, settings, tmp_path)


def test_namespace_root_makes_the_namespace_independent_of_cwd(tmp_path: Path) -> None:
    flow = write(tmp_path, "pipelines/billing/invoices/x.py", ORDER_ETL)
    settings = Settings(repo_root=tmp_path, namespace_root="pipelines")
    for cwd in (tmp_path, tmp_path / "pipelines" / "billing", Path("/")):
        assert resolve_namespace(None, flow, settings, cwd) == "billing/invoices"
    at_root = Settings(repo_root=tmp_path, namespace_root="")
    assert resolve_namespace(None, flow, at_root, tmp_path / "pipelines") == (
        "pipelines/billing/invoices"
    )


def test_file_outside_the_cwd_is_a_clear_error(tmp_path: Path) -> None:
    flow = write(tmp_path, "other/x.py", ORDER_ETL)
    (tmp_path / "pipelines").mkdir()
    with pytest.raises(DagyError) as info:
        resolve_namespace(None, flow, Settings(repo_root=tmp_path), tmp_path / "pipelines")
    assert str(flow) in info.value.message
    assert f"the current directory {tmp_path / 'pipelines'}" in info.value.message
    assert info.value.hint and "namespace_root" in info.value.hint
    assert "--namespace" in info.value.hint


def test_file_outside_namespace_root_names_the_setting(tmp_path: Path) -> None:
    flow = write(tmp_path, "scripts/x.py", ORDER_ETL)
    settings = Settings(repo_root=tmp_path, namespace_root="pipelines", config_path="dagy.toml")
    with pytest.raises(DagyError) as info:
        resolve_namespace(None, flow, settings, tmp_path)
    assert "is outside namespace_root 'pipelines' (dagy.toml)" in info.value.message


def test_folder_that_is_not_a_valid_namespace(tmp_path: Path) -> None:
    flow = write(tmp_path, "my dir/x.py", ORDER_ETL)
    with pytest.raises(InvalidNameError) as info:
        derive_namespace(flow, tmp_path, shown="my dir/x.py")
    assert info.value.message == (
        "the namespace derived from the folder of my dir/x.py, 'my dir', is invalid"
    )
    assert info.value.hint and "rename the folder" in info.value.hint


def test_symlinks_are_resolved_on_both_sides(tmp_path: Path) -> None:
    write(tmp_path, "real/pipelines/data/x.py", ORDER_ETL)
    os.symlink(tmp_path / "real", tmp_path / "link")
    via_link = tmp_path / "link" / "pipelines" / "data" / "x.py"
    real_cwd = tmp_path / "real" / "pipelines"
    assert derive_namespace(via_link, real_cwd) == "data"
    assert derive_namespace(tmp_path / "real/pipelines/data/x.py", tmp_path / "link/pipelines") == (
        "data"
    )
