"""Golden vectors for the frozen hashes (DESIGN.md "Hashes").

These literals were computed once and must never change: a different value here means every
user's unchanged flows would get a new code_hash and be redeployed. If a test fails, fix the
code, not the literal.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from dagy_git.analysis import analyze_source
from dagy_git.hashing import canonical_bytes, canonical_json, code_hash, source_file_hash

from conftest import ORDER_ETL

CANONICAL = [
    (
        {"b": 1, "a": [1, 2.5, None, True, False], "c": {"z": {}, "y": []}},
        '{"a":[1,2.5,null,true,false],"b":1,"c":{"y":[],"z":{}}}',
        "1083495e1aabf767f118bff632032e588bc348df07bdfb7a644da190a8fec7b5",
    ),
    (
        {"name": "ünïcødé ✓ 日本語 🚀", "tab\t": 'line\nbreak "quoted" \\ back'},
        '{"name":"ünïcødé ✓ 日本語 🚀","tab\\t":"line\\nbreak \\"quoted\\" \\\\ back"}',
        "85034df19d81d5283542d6e1c7c088a182a8b64a9a16d833b836e5f505b7b66b",
    ),
    (
        [0.1, 1.0, -0.0, 1e-07, 1e16, 123456789.125, 3],
        "[0.1,1.0,-0.0,1e-07,1e+16,123456789.125,3]",
        "188f8ce8f0720d6b7216465f99c1871ae6b53a936107d63ead174fb9220ab79d",
    ),
]


@pytest.mark.parametrize(("value", "text", "file_sha"), CANONICAL)
def test_canonical_json_golden(value: object, text: str, file_sha: str) -> None:
    assert canonical_json(value) == text
    # Registry files are the canonical text plus a newline, UTF-8 (not \u escapes).
    assert canonical_bytes(value) == (text + "\n").encode("utf-8")
    assert hashlib.sha256(canonical_bytes(value)).hexdigest() == file_sha


def test_canonical_json_refuses_nan_and_infinity() -> None:
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            canonical_json({"x": bad})


SOURCE_LF = b"print('hi')\nx = 1\n"
SOURCE_SHA = "ffbb6288ce4eebdef676ce850442153202f483ed982bd42cf0f5a06412b52744"


def test_source_file_hash_golden_and_line_endings() -> None:
    assert source_file_hash(SOURCE_LF) == SOURCE_SHA
    # A Windows checkout hashes like a Linux one.
    assert source_file_hash(SOURCE_LF.replace(b"\n", b"\r\n")) == SOURCE_SHA
    assert source_file_hash(b"") == hashlib.sha256(b"").hexdigest()
    # A lone CR is content, not a line ending.
    assert source_file_hash(b"x = 1\r") != source_file_hash(b"x = 1\n")


def test_code_hash_definition() -> None:
    spec = {"b": [1, "ü"], "a": None}
    src = "0" * 64
    expected = hashlib.sha256(('{"a":null,"b":[1,"ü"]}|' + src).encode("utf-8")).hexdigest()
    assert code_hash(spec, src) == expected
    assert code_hash({"a": 1}, src) == (
        "8e2b48f634fa386744d56e24cb204f3d9720b52d387c61b9112a83ae5866c7a2"
    )


ORDER_ETL_SPEC_JSON = (
    '{"description":null,"edges":[["extract","transform"],["transform","load"]],'
    '"function":"order_etl","name":"order_etl","parameters":[{"annotation":"str",'
    '"default":"\\"s3://data/orders/\\"","name":"source","required":false}],"retries":0,'
    '"retry_delay_seconds":0.0,"tasks":[{"description":null,"function":"extract",'
    '"id":"extract","module":null,"name":"extract","retries":0,"retry_delay_seconds":0.0,'
    '"timeout_seconds":null},{"description":null,"function":"transform","id":"transform",'
    '"module":null,"name":"transform","retries":0,"retry_delay_seconds":0.0,'
    '"timeout_seconds":null},{"description":null,"function":"load","id":"load",'
    '"module":null,"name":"load","retries":0,"retry_delay_seconds":0.0,'
    '"timeout_seconds":null}],"timeout_seconds":null,"version":"2.1.0"}'
)
ORDER_ETL_SOURCE_SHA = "b8c5d1a8b044cdab862e76053279b38a13f5539a0bdcae55f329e2e17b7500cd"
# Parameter defaults are recorded as written (`"s3://…"`), not as `ast.unparse` text
# (`'s3://…'`), whose output differs between Python versions; this replaced the pre-release
# value 567d8e89290876d754e0de832a7da222a5efee241292759ac0fa8472952cc6eb.
ORDER_ETL_CODE_HASH = "7e4805622e30c88a64c628bc9b175f88d929903c65582e3eb71e9ed9f7ea799c"


def test_order_etl_spec_and_code_hash_golden() -> None:
    (flow,) = analyze_source(ORDER_ETL.encode(), "order.py").flows
    assert canonical_json(flow.spec.to_json()) == ORDER_ETL_SPEC_JSON
    assert flow.source_file_hash == ORDER_ETL_SOURCE_SHA
    assert flow.code_hash == ORDER_ETL_CODE_HASH
    # …and the pinned hash really is the documented formula over the pinned values.
    formula = hashlib.sha256(f"{ORDER_ETL_SPEC_JSON}|{ORDER_ETL_SOURCE_SHA}".encode())
    assert formula.hexdigest() == ORDER_ETL_CODE_HASH
    # Every FlowSpec field is present, even the defaults (DESIGN.md).
    assert set(json.loads(ORDER_ETL_SPEC_JSON)) == set(type(flow.spec).model_fields)


def test_order_etl_hash_ignores_the_path_and_line_endings() -> None:
    (here,) = analyze_source(ORDER_ETL.encode(), "a/b/order.py").flows
    (crlf,) = analyze_source(ORDER_ETL.replace("\n", "\r\n").encode(), "order.py").flows
    assert here.code_hash == crlf.code_hash == ORDER_ETL_CODE_HASH


def test_dagy_and_dagy_git_imports_give_the_same_spec() -> None:
    (dagy,) = analyze_source(ORDER_ETL.encode(), "order.py").flows
    other = ORDER_ETL.replace("from dagy import", "from dagy_git import")
    (dagy_git,) = analyze_source(other.encode(), "order.py").flows
    assert canonical_json(dagy_git.spec.to_json()) == ORDER_ETL_SPEC_JSON
    # The files differ, so their source hashes (and code hashes) rightly differ.
    assert dagy_git.source_file_hash != dagy.source_file_hash
    assert dagy_git.code_hash != dagy.code_hash
