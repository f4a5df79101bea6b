"""Name rules and the reversible version escaping, checked against real git."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagy_git.errors import InvalidNameError
from dagy_git.names import (
    decode_name,
    decode_version,
    encode_name,
    encode_version,
    parse_flow_ref,
    validate_deployment_name,
    validate_name,
    validate_namespace,
    validate_tag,
    validate_version,
)

versions = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")),
    min_size=1,
    max_size=128,
).filter(lambda v: not any(0x7F <= ord(c) <= 0x9F for c in v) and len(encode_version(v)) <= 200)


def check_ref_format(refs: list[str]) -> list[str]:
    """Return the refs real `git check-ref-format` rejects."""
    bad = []
    for ref in refs:
        proc = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False)
        if proc.returncode != 0:
            bad.append(ref)
    return bad


@given(versions)
@settings(max_examples=300, deadline=None)
def test_encode_roundtrip(version: str) -> None:
    assert validate_version(version) == version
    key = encode_version(version)
    assert decode_version(key) == version
    assert "/" not in key and ".." not in key and not key.startswith(".")


@given(st.lists(versions, min_size=40, max_size=40))
@settings(max_examples=5, deadline=None)
def test_encoded_versions_are_valid_git_refs(batch: list[str]) -> None:
    refs = [f"refs/tags/dagy/order_etl/{encode_version(v)}" for v in batch]
    assert check_ref_format(refs) == []


@pytest.mark.parametrize(
    ("version", "key"),
    [
        ("2.1.0", "2.1.0"),
        ("latest", "latest"),
        ("1.0+build.5", "1.0+build.5"),
        ("--upload-pack=x", "--upload-pack%3Dx"),
        ("../../etc", "%2E%2E%2F.%2E%2Fetc"),
        (".hidden", "%2Ehidden"),
        ("a..b", "a.%2Eb"),
        ("v1.lock", "v1%2Elock"),
        ("end.", "end%2E"),
        ("feature/x y", "feature%2Fx%20y"),
        ("100%", "100%25"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_encode_golden(version: str, key: str) -> None:
    """Frozen: these keys are path segments and tag names in users' registries."""
    assert encode_version(version) == key
    assert decode_version(key) == version
    assert check_ref_format([f"refs/tags/dagy/f/{key}"]) == []


@pytest.mark.parametrize(
    "name",
    ["order_etl", "a", "A1.b-c_d", "x" * 128, "My ETL Flow", "_x", "-x", ".x", "a/b", "é", "a..b"],
)
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name
    assert decode_name(encode_name(name)) == name
    assert check_ref_format([f"refs/tags/dagy/{encode_name(name)}/1.0"]) == []


@pytest.mark.parametrize(
    "name", ["", "   ", "a@b", "x" * 129, "a\nb", "tab\t", "a\u200bb", "\ud800", "\x7f"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidNameError, match="flow name"):
        validate_name(name)


@pytest.mark.parametrize(
    "name", ["", "-x", ".x", "_x", "a b", "a/b", "a@b", "x" * 129, "a..b", "a.", "a.lock", "é"]
)
def test_invalid_deployment_names(name: str) -> None:
    """Deployment names stay strict: they are registry file names, unescaped."""
    with pytest.raises(InvalidNameError, match="deployment name"):
        validate_name(name, "deployment name")
    with pytest.raises(InvalidNameError, match="deployment name"):
        validate_deployment_name(name)


@pytest.mark.parametrize("name", ["order_etl", "a", "A1.b-c_d"])
def test_old_names_escape_to_themselves(name: str) -> None:
    """A format-1 registry written before names held spaces reads unchanged."""
    assert encode_name(name) == name


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")),
        min_size=1,
        max_size=60,
    )
    .filter(lambda n: "@" not in n and not n.isspace())
    .filter(lambda n: not any(0x7F <= ord(c) <= 0x9F for c in n) and len(encode_name(n)) <= 200)
)
@settings(max_examples=200, deadline=None)
def test_free_form_names_roundtrip(name: str) -> None:
    assert validate_name(name) == name
    key = encode_name(name)
    assert decode_name(key) == name
    assert "/" not in key and ".." not in key and not key.startswith(".")


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}(\.[A-Za-z0-9_-]{1,5}){0,3}", fullmatch=True))
@settings(max_examples=50, deadline=None)
def test_valid_flow_names_are_valid_ref_components(name: str) -> None:
    if name.endswith(".lock"):
        return
    validate_name(name)
    assert check_ref_format([f"refs/tags/dagy/{name}/1.0"]) == []


@pytest.mark.parametrize("ns", ["", "data", "data/ingestion", "a.b/c-d/e_f"])
def test_valid_namespaces(ns: str) -> None:
    assert validate_namespace(ns) == ns


@pytest.mark.parametrize("ns", ["/data", "data/", "a//b", "a/../b", ".", "..", "a b", "ä"])
def test_invalid_namespaces(ns: str) -> None:
    with pytest.raises(InvalidNameError, match="namespace"):
        validate_namespace(ns)


@pytest.mark.parametrize(
    "version",
    ["", "a\nb", "tab\there", "x" * 129, "\x7f", "1.0\u202e", "a\u200bb", "a\u2028b", "é" * 100],
)
def test_invalid_versions(version: str) -> None:
    with pytest.raises(InvalidNameError, match="version"):
        validate_version(version)


def test_tags() -> None:
    assert validate_tag("cost-center", "analytics") == ("cost-center", "analytics")
    assert validate_tag("team/sub.key_1", "") == ("team/sub.key_1", "")
    for key in ["", "a b", "k=v", "x" * 129]:
        with pytest.raises(InvalidNameError, match="tag key"):
            validate_tag(key, "v")
    with pytest.raises(InvalidNameError, match="longer than 512"):
        validate_tag("k", "v" * 513)


def test_parse_flow_ref() -> None:
    assert parse_flow_ref("order_etl") == ("order_etl", None)
    assert parse_flow_ref("order_etl@2.1.0") == ("order_etl", "2.1.0")
    assert parse_flow_ref("order_etl@a@b") == ("order_etl", "a@b")
    assert parse_flow_ref("My ETL Flow@1.0 rc") == ("My ETL Flow", "1.0 rc")
    with pytest.raises(InvalidNameError):
        parse_flow_ref("@1")
    with pytest.raises(InvalidNameError):
        parse_flow_ref("bad\tname@1")
