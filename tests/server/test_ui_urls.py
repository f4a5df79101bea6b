"""Flow page URLs: any flow name and version, even with `/`, `%`, spaces or markup, makes
a link that leads back to exactly that flow version."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from dagy_git.server.ui import flow_ref, flow_url

# Printable text: what the name rules allow (no control characters, not empty).
_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40).filter(
    str.strip
)


def _request(url: str) -> Request:
    # What uvicorn hands the app: `path` percent-decoded, `raw_path` as the client sent it.
    return Request({"type": "http", "path": "/unused", "raw_path": url.encode("ascii")})


@given(name=_TEXT, version=st.none() | _TEXT)
def test_flow_urls_round_trip(name: str, version: str | None) -> None:
    url = flow_url(name, version)
    assert url.isascii() and " " not in url
    assert flow_ref(_request(url)) == (name, version)


def test_a_query_string_is_not_part_of_the_version() -> None:
    assert flow_ref(_request("/ui/flows/order_etl/2.1.0?x=1")) == ("order_etl", "2.1.0")
    assert flow_ref(_request("/ui/flows/")) is None
    assert flow_ref(_request("/ui/flows/a//b")) is None
