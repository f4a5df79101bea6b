"""The Flows page filter: parsed from the query string, and every chip's link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from dagy_git.errors import DagyError
from dagy_git.server.ui_filters import Filters, parse_filters


def test_query_string_round_trips_through_the_url() -> None:
    f = parse_filters(["team:data-eng", "env:prod", "url:http://x:1"], "data/", " orders ")
    assert f.tags == (("team", "data-eng"), ("env", "prod"), ("url", "http://x:1"))
    assert (f.namespace, f.q) == ("data", "orders")
    query = parse_qs(urlsplit(f.url()).query)
    assert parse_filters(query["tag"], query["namespace"][0], query["q"][0]) == f
    assert Filters().url() == "/"


def test_tag_chips_combine_with_and_and_toggle() -> None:
    f = Filters().toggle_tag("team", "data-eng").toggle_tag("env", "prod")
    assert f.matches("order_etl", "data/orders", {"team": "data-eng", "env": "prod", "x": "y"})
    assert not f.matches("load_orders", "data", {"team": "data-eng", "env": "staging"})
    assert f.toggle_tag("env", "prod").tags == (("team", "data-eng"),)
    # Another value of a filtered key replaces it: env:prod AND env:staging matches nothing.
    assert f.with_tag("env", "staging").tags == (("team", "data-eng"), ("env", "staging"))


def test_namespace_is_a_subtree_and_search_ignores_case() -> None:
    f = Filters(namespace="data", q="ORD")
    assert f.matches("order_etl", "data/orders", {})
    assert f.matches("Orders", "data", {})
    assert not f.matches("order_etl", "database", {})
    assert not f.matches("train", "data", {})
    assert f.with_namespace("data").namespace == ""  # clicking the active one clears it
    assert f.with_namespace("ml").namespace == "ml"


@pytest.mark.parametrize(
    ("tags", "namespace", "message"),
    [
        (["team"], None, "tag filter 'team' is not key:value"),
        (["bad key:x"], None, "tag"),
        ([], "../etc", "invalid namespace"),
        ([], "a//b", "invalid namespace"),
    ],
)
def test_malformed_filters_are_errors_that_name_them(
    tags: list[str], namespace: str | None, message: str
) -> None:
    with pytest.raises(DagyError, match=message.replace("(", r"\(")):
        parse_filters(tags, namespace, None)


def test_overlong_search_is_refused() -> None:
    with pytest.raises(DagyError, match="longer than"):
        parse_filters([], None, "x" * 201)
