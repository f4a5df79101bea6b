"""The deploy decision table (DESIGN.md "Deploy"), row by row, without git.

`plan` is a pure function of intents and a `RegistryState` (plain data), so every row is
built here in memory: no repository, no snapshot, no mock.
"""

from __future__ import annotations

import pytest

from dagy_git.errors import RefusedError
from dagy_git.identity import Closure
from dagy_git.models import DeploymentRecord, FlowRecord, FlowSpec
from dagy_git.plan import Intent, RegistryState, plan

NOW = "2026-01-02T00:00:00.000Z"
THEN = "2026-01-01T00:00:00.000Z"
HEAD, OLD, LATER = "c" * 40, "a" * 40, "d" * 40
SPEC = FlowSpec(name="etl", version="1.0", function="etl")
KEY = ("etl", "1.0")
FLOW_FILE = b"flow"
CLOSURE = Closure({"flows/etl.py": FLOW_FILE, "flows/tasks.py": b"tasks v1"})


def intent(**kw: object) -> Intent:
    base: dict[str, object] = {
        "spec": SPEC,
        "code_hash": "1" * 64,
        "source_file_hash": "f" * 64,
        "namespace": "data",
        "source_path": "flows/etl.py",
        "source": FLOW_FILE,
        "dirty": False,
        "manifest_tags": {"team": "data"},
        "closure": CLOSURE,
    }
    return Intent(**{**base, **kw})  # type: ignore[arg-type]


def record(**kw: object) -> FlowRecord:
    base: dict[str, object] = {
        "flow_name": "etl",
        "flow_version": "1.0",
        "namespace": "data",
        "code_hash": "1" * 64,
        "source_file_hash": "f" * 64,
        "source_path": "flows/etl.py",
        "source_commit": OLD,
        "registered_at": THEN,
        "updated_at": THEN,
        "closure_hash": CLOSURE.hash,
        "tags_from_manifest": ["team"],
    }
    return FlowRecord(**{**base, **kw})  # type: ignore[arg-type]


def deployment(**kw: object) -> DeploymentRecord:
    base: dict[str, object] = {
        "name": "etl-prod",
        "flow_name": "etl",
        "flow_version": "1.0",
        "namespace": "data",
        "tags": {"team": "data"},
        "schedule": "0 6 * * *",
        "parameters": {},
        "deployment_version": 4,
        "code_hash": "1" * 64,
        "created_at": THEN,
        "updated_at": THEN,
    }
    return DeploymentRecord(**{**base, **kw})  # type: ignore[arg-type]


def state(rec: FlowRecord | None = None, **kw: object) -> RegistryState:
    records = {KEY: rec} if rec is not None else {}
    tags = {KEY: {"team": "data"}} if rec is not None else {}
    return RegistryState(**{"records": records, "tags": tags, **kw})  # type: ignore[arg-type]


def decide(intents: list[Intent], st: RegistryState, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"force": False, "now": NOW, "source_commit": HEAD, **kw}
    return plan(intents, st, **args)  # type: ignore[arg-type]


def outcome(intents: list[Intent], st: RegistryState, **kw: object) -> tuple[str, str]:
    result = decide(intents, st, **kw).results[0]
    return result.status, result.reason


# -- the flow version table ------------------------------------------------------------


def test_no_record_registers_with_code_closure_and_tags() -> None:
    p = decide([intent()], state())
    assert (p.results[0].status, p.results[0].reason) == ("registered", "first deploy")
    (write,) = p.flows
    assert write.record.closure_hash == CLOSURE.hash
    assert write.record.tags_from_manifest == ["team"]
    assert write.source == ("etl.py", FLOW_FILE) and write.closure == CLOSURE.files
    assert write.record.registered_at == NOW and write.record.source_commit == HEAD


def test_a_legacy_record_without_code_hash_registers_again() -> None:
    assert outcome([intent()], state(record(code_hash=None))) == (
        "registered",
        "legacy record without code_hash",
    )


def test_another_code_hash_updates_and_keeps_registered_at() -> None:
    p = decide([intent()], state(record(code_hash="2" * 64)))
    assert (p.results[0].status, p.results[0].reason) == ("updated", "code_hash changed")
    assert p.flows[0].record.registered_at == THEN and p.flows[0].source is not None


def test_immutable_versions_refuse_other_code_unless_forced() -> None:
    st = state(record(code_hash="2" * 64))
    with pytest.raises(RefusedError, match="immutable_versions"):
        decide([intent()], st, immutable_versions=True)
    assert outcome([intent()], st, immutable_versions=True, force=True)[0] == "updated"
    # a mutable version may always move
    latest = intent(spec=SPEC.model_copy(update={"version": "latest"}))
    latest_state = RegistryState(records={("etl", "latest"): record(flow_version="latest")})
    assert decide([latest], latest_state, immutable_versions=True).results[0].status in (
        "updated",
        "metadata",
    )


def test_another_closure_updates_naming_the_module() -> None:
    now = Closure({"flows/etl.py": FLOW_FILE, "flows/tasks.py": b"tasks v2"})
    stored = {**CLOSURE.hashes}  # what was deployed: tasks v1
    st = state(record(), stored_closures={KEY: stored})
    status, reason = outcome([intent(closure=now)], st)
    assert (status, reason) == ("updated", "imported module flows/tasks.py changed")


def test_a_record_from_before_closures_compares_by_code_hash_only() -> None:
    other = Closure({"flows/etl.py": FLOW_FILE, "flows/tasks.py": b"tasks v9"})
    assert outcome([intent(closure=other)], state(record(closure_hash=None))) == (
        "skipped",
        "code_hash unchanged",
    )


def test_other_code_from_a_later_commit_is_never_replaced() -> None:
    st = state(
        record(code_hash="2" * 64, source_commit=LATER),
        later=frozenset({LATER}),
        deployments={"etl-prod": deployment()},
    )
    p = decide([intent(deployment="etl-prod")], st)
    assert p.results[0].status == "skipped" and "later commit" in p.results[0].reason
    assert p.results[0].deployment_version == 4 and not p.writes


def test_the_registry_last_deployed_from_a_later_commit_skips_everything() -> None:
    st = state(None, last_source_head=LATER, later=frozenset({LATER}))
    p = decide([intent()], st)
    assert p.results[0].status == "skipped" and not p.writes
    assert decide([intent()], st, force=True).results[0].status == "registered"


def test_same_code_other_tags_is_metadata_only() -> None:
    p = decide([intent(explicit_tags={"owner": "ana"})], state(record()))
    assert (p.results[0].status, p.results[0].reason) == ("metadata", "tags changed")
    assert p.flows[0].tags == {"team": "data", "owner": "ana"}
    assert p.flows[0].source is None and p.flows[0].record.source_commit == OLD


def test_nothing_differs_skips_and_force_updates() -> None:
    assert outcome([intent()], state(record())) == ("skipped", "code_hash unchanged")
    assert not decide([intent()], state(record())).writes
    assert outcome([intent()], state(record()), force=True) == ("updated", "forced")


def test_a_registered_namespace_never_changes() -> None:
    with pytest.raises(RefusedError, match="namespace"):
        decide([intent(namespace="other")], state(record()))


# -- tags: manifests are declarative, explicit tags stay ------------------------------


def test_a_key_removed_from_the_manifest_goes_and_explicit_keys_stay() -> None:
    rec = record(tags_from_manifest=["team", "env"])
    st = RegistryState(
        records={KEY: rec}, tags={KEY: {"team": "data", "env": "prod", "owner": "ana"}}
    )
    p = decide([intent()], st)  # the manifest now only sets team
    assert p.results[0].status == "metadata"
    assert p.flows[0].tags == {"team": "data", "owner": "ana"}
    assert p.flows[0].record.tags_from_manifest == ["team"]


def test_a_record_without_tag_provenance_loses_no_key() -> None:
    st = RegistryState(
        records={KEY: record(tags_from_manifest=None)}, tags={KEY: {"team": "data", "x": "1"}}
    )
    assert outcome([intent()], st)[0] == "skipped"


# -- deployments ------------------------------------------------------------------------


def test_a_new_deployment_starts_at_version_one() -> None:
    p = decide([intent(deployment="etl-prod", schedule="0 6 * * *")], state(record()))
    assert (p.results[0].status, p.results[0].reason) == ("registered", "new deployment")
    assert p.results[0].deployment_version == 1 and p.deployments[0].created_at == NOW


def test_a_changed_deployment_goes_up_by_one_and_an_unchanged_one_is_skipped() -> None:
    st = state(record(), deployments={"etl-prod": deployment()})
    changed = intent(deployment="etl-prod", schedule="0 7 * * *", authoritative=True)
    p = decide([changed], st)
    assert (p.results[0].status, p.results[0].reason) == ("metadata", "schedule changed")
    assert p.results[0].deployment_version == 5
    same = intent(deployment="etl-prod", schedule="0 6 * * *", authoritative=True)
    p = decide([same], st)
    assert p.results[0].status == "skipped" and p.results[0].deployment_version == 4
    # a closure change rebinds the deployment to new code
    moved = intent(
        deployment="etl-prod",
        authoritative=True,
        schedule="0 6 * * *",
        closure=Closure({"flows/etl.py": FLOW_FILE}),
    )
    p = decide([moved], st)
    assert p.results[0].status == "updated" and p.deployments[0].deployment_version == 5


def test_a_deployment_of_another_flow_is_refused_unless_forced() -> None:
    st = state(record(), deployments={"etl-prod": deployment(flow_name="other")})
    with pytest.raises(RefusedError, match="deploys flow 'other'"):
        decide([intent(deployment="etl-prod")], st)
    assert decide([intent(deployment="etl-prod")], st, force=True).deployments


def test_undeclared_deployments_are_listed_and_pruned_on_request() -> None:
    st = state(record(), deployment_names=frozenset({"etl-prod", "gone", "kept"}))
    targeted = [intent(deployment="etl-prod")]
    p = decide(targeted, st, declared=frozenset({"etl-prod", "kept"}))
    assert p.undeclared == ["gone"] and p.retired == []
    p = decide(targeted, st, declared=frozenset({"etl-prod", "kept"}), prune=True)
    assert p.retired == ["gone"] and p.writes
    assert decide(targeted, st).undeclared == []  # not `--all`: nothing to say


def test_an_intent_that_knows_no_manifests_removes_no_manifest_key() -> None:
    # an API request about a registered version: it says nothing of the manifests
    rec = record(tags_from_manifest=["team", "env"])
    st = RegistryState(records={KEY: rec}, tags={KEY: {"team": "data", "env": "prod"}})
    p = decide([intent(manifest_tags=None, explicit_tags={"env": "dev"})], st)
    assert p.flows[0].tags == {"team": "data", "env": "dev"}
    assert p.flows[0].record.tags_from_manifest == ["team"]  # env is explicit now
