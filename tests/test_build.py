"""`dagy-git build`: reproducible artifacts that deploy like the source they came from."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from conftest import ORDER_ETL, commit_all, git, run_cli, write

FLOW = "flows/orders/order_etl.py"


def test_build_is_byte_identical_and_deployable(repo: Path, tmp_path: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "flow")
    out1, out2 = tmp_path / "d1", tmp_path / "d2"
    assert (
        run_cli(
            "build", FLOW, "--out", str(out1), "--namespace", "data/orders", cwd=repo
        ).returncode
        == 0
    )
    assert (
        run_cli(
            "build", FLOW, "--out", str(out2), "--namespace", "data/orders", cwd=repo
        ).returncode
        == 0
    )
    zip1 = out1 / "order_etl-2.1.0.zip"
    assert zip1.read_bytes() == (out2 / "order_etl-2.1.0.zip").read_bytes()
    with zipfile.ZipFile(zip1) as zf:
        assert zf.namelist() == ["metadata.json", f"source/{FLOW}"]
        meta = json.loads(zf.read("metadata.json"))
    spec = json.loads(run_cli("spec", FLOW, "--json", cwd=repo).stdout)[0]
    assert meta["code_hash"] == spec["code_hash"]
    assert meta["flow_spec"] == spec["flow_spec"]
    assert meta["namespace"] == "data/orders"
    assert {"flow_name", "flow_version", "source_file_hash"} <= set(meta)

    doc = json.loads(run_cli("deploy", str(zip1), "--json", cwd=repo).stdout)
    (result,) = doc["results"]
    assert (result["status"], result["namespace"]) == ("registered", "data/orders")
    assert result["code_hash"] == spec["code_hash"]
    # the same code from source is unchanged
    again = json.loads(
        run_cli("deploy", FLOW, "--namespace", "data/orders", "--json", cwd=repo).stdout
    )
    assert again["results"][0]["status"] == "skipped"
    assert git(repo, "status", "--porcelain") == ""


def test_tampered_artifact_is_refused(repo: Path, tmp_path: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "flow")
    assert run_cli("build", FLOW, "--out", str(tmp_path), cwd=repo).returncode == 0
    good = tmp_path / "order_etl-2.1.0.zip"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        dst.writestr("metadata.json", src.read("metadata.json"))
        dst.writestr(f"source/{FLOW}", src.read(f"source/{FLOW}") + b"\nimport os\n")
    proc = run_cli("deploy", str(bad), cwd=repo)
    assert proc.returncode == 1
    assert "hashes do not match" in proc.stderr
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    proc = run_cli("deploy", str(tmp_path / "junk.zip"), cwd=repo)
    assert proc.returncode == 1 and "not a dagy-git artifact" in proc.stderr


def test_build_follows_the_manifest_and_reports_bad_output_paths(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, FLOW, ORDER_ETL)
    write(
        repo,
        "dagy.toml",
        '[[deployments]]\nname = "d"\nflow = "' + FLOW + '"\nflow_version = "9"\nnamespace = ""\n',
    )
    commit_all(repo, "flow")
    assert run_cli("build", "--out", str(tmp_path), cwd=repo).returncode == 0
    with zipfile.ZipFile(tmp_path / "order_etl-9.zip") as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert (meta["flow_version"], meta["namespace"]) == ("9", "")
    assert meta["flow_spec"]["version"] == "9"
    deployed = json.loads(run_cli("deploy", "--all", "--json", cwd=repo).stdout)["results"][0]
    assert deployed["code_hash"] == meta["code_hash"]
    (tmp_path / "afile").write_text("x")
    proc = run_cli("build", FLOW, "--out", str(tmp_path / "afile"), cwd=repo)
    assert proc.returncode == 1
    assert "cannot write artifacts" in proc.stderr


def test_artifact_with_an_odd_source_path_is_refused(repo: Path, tmp_path: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "flow")
    assert run_cli("build", FLOW, "--out", str(tmp_path), cwd=repo).returncode == 0
    good = tmp_path / "order_etl-2.1.0.zip"
    with zipfile.ZipFile(good) as zf:
        meta = json.loads(zf.read("metadata.json"))
        source = zf.read(f"source/{FLOW}")
    for odd in ("sub/", "./f.py", "a\\..\\b.py", "x/.git/f.py", "../f.py"):
        bad = tmp_path / "odd.zip"
        with zipfile.ZipFile(bad, "w") as dst:
            dst.writestr("metadata.json", json.dumps({**meta, "source_path": odd}))
            dst.writestr(f"source/{odd}", source)
        proc = run_cli("deploy", str(bad), cwd=repo)
        assert proc.returncode == 1, odd
        assert "invalid source_path" in proc.stderr, (odd, proc.stderr)
