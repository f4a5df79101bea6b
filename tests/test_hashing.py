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


# -- golden vectors for the forms real flows use (issue 7) -------------------------------------
# `.submit()` in a helper, `.map()` with `unmapped`, a subflow renamed by `.with_options`,
# and options outside the typed ones: the fields added after format 1 (`options`, `mapped`,
# `kind`, `flow_version`, a list of delays) appear only where they differ from the default.
HARVEST = """\
from dagy import flow, task, unmapped


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl"])
def fetch(url: str) -> dict:
    ...


@task(cache_key_fn=None, persist_result=True)
def parse(page: dict, schema: str) -> list:
    ...


@flow(name="Publish Step", version="1.2")
def publish(rows: list) -> int:
    ...


def collect(urls: list) -> list:
    futures = [fetch.submit(u) for u in urls]
    return [f.result() for f in futures]


@flow(name="Web Harvest", version="3.0", log_prints=True, flow_run_name="harvest-{day}")
def harvest(urls: list, day: str = "2024-01-01"):
    pages = collect(urls)
    rows = parse.map(pages, schema=unmapped("v2"))
    return publish.with_options(name="Publish Late")(rows)
"""
HARVEST_SPEC_JSON = (
    '{"description":null,"edges":[["fetch","parse"],["parse","Publish Late"]],"function":'
    '"harvest","name":"Web Harvest","options":{"flow_run_name":"\\"harvest-{day}\\"","log_p'
    'rints":"True"},"parameters":[{"annotation":"list","default":null,"name":"urls","requ'
    'ired":true},{"annotation":"str","default":"\\"2024-01-01\\"","name":"day","required":f'
    'alse}],"retries":0,"retry_delay_seconds":0.0,"tasks":[{"description":null,"function"'
    ':"fetch","id":"fetch","module":null,"name":"fetch","options":{"tags":"[\\"etl\\"]"},"r'
    'etries":3,"retry_delay_seconds":[10.0,30.0,60.0],"timeout_seconds":null},{"descripti'
    'on":null,"function":"parse","id":"parse","mapped":true,"module":null,"name":"parse",'
    '"options":{"cache_key_fn":"None","persist_result":"True"},"retries":0,"retry_delay_s'
    'econds":0.0,"timeout_seconds":null},{"description":null,"flow_version":"1.2","functi'
    'on":"publish","id":"Publish Late","kind":"flow","module":null,"name":"Publish Late",'
    '"retries":0,"retry_delay_seconds":0.0,"timeout_seconds":null}],"timeout_seconds":nul'
    'l,"version":"3.0"}'
)
HARVEST_SOURCE_SHA = "f39b76e2b441c31d7fb4e22f8491ee307073783205e9e092d3ca102f5ba86639"
HARVEST_CODE_HASH = "b0390e65aacd40fd97186e8886a13ba734c4b160f077f0a2e339039a5b247554"


def test_harvest_spec_and_code_hash_golden() -> None:
    flows = {f.spec.name: f for f in analyze_source(HARVEST.encode(), "harvest.py").flows}
    flow = flows["Web Harvest"]
    assert canonical_json(flow.spec.to_json()) == HARVEST_SPEC_JSON
    assert flow.source_file_hash == HARVEST_SOURCE_SHA
    assert flow.code_hash == HARVEST_CODE_HASH
    formula = hashlib.sha256(f"{HARVEST_SPEC_JSON}|{HARVEST_SOURCE_SHA}".encode())
    assert formula.hexdigest() == HARVEST_CODE_HASH
    # The spec read back from its JSON (as the registry stores it) is the same spec.
    assert type(flow.spec).model_validate(json.loads(HARVEST_SPEC_JSON)) == flow.spec


def test_an_option_edit_changes_the_code_hash_and_is_visible_in_the_spec() -> None:
    edited = HARVEST.replace('tags=["etl"]', 'tags=["etl", "web"]')
    (before,) = [f for f in analyze_source(HARVEST.encode(), "h.py").flows if f.spec.tasks]
    (after,) = [f for f in analyze_source(edited.encode(), "h.py").flows if f.spec.tasks]
    assert after.spec.tasks[0].options == {"tags": '["etl", "web"]'}
    assert after.code_hash != before.code_hash
