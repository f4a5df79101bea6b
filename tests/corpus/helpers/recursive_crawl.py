"""Crawl the docs site to a fixed depth and build a search index.

`crawl` is a recursive helper that calls tasks. A static reader cannot unroll recursion,
so it follows `crawl` once and cuts off the recursive call (with a warning).
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

import httpx
from bs4 import BeautifulSoup

from dagy import flow, get_run_logger, task

ROOT_URL = "https://docs.acme.example/"
MAX_LINKS = 25


@task(retries=2, retry_delay_seconds=5)
def fetch_page(url: str) -> str:
    return httpx.get(url, timeout=20, follow_redirects=True).raise_for_status().text


@task
def extract_links(html: str, base: str = ROOT_URL) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    links = {urljoin(base, a["href"]).split("#")[0] for a in soup.find_all("a", href=True)}
    return sorted(link for link in links if link.startswith(base))


@task
def build_search_index(tree: dict) -> list[dict]:
    docs, stack = [], [tree]
    while stack:
        node = stack.pop()
        if "page" in node:
            text = BeautifulSoup(node["page"], "html.parser").get_text(" ", strip=True)
            docs.append({"url": node["url"], "text": text[:5000]})
        stack.extend(node["children"])
    return docs


@task(retries=3, retry_delay_seconds=[10, 30, 60])
def upload_index(index: list[dict]) -> int:
    httpx.put("http://search.internal/indexes/docs", content=json.dumps(index), timeout=120)
    return len(index)


def crawl(url: str, depth: int, seen: set[str]) -> dict:
    """Fetch `url`, then recurse into its links until `depth` runs out."""
    if depth < 0 or url in seen:
        return {"url": url, "children": []}
    seen.add(url)
    page = fetch_page(url)
    links = extract_links(page)
    children = [crawl(link, depth - 1, seen) for link in links[:MAX_LINKS]]
    return {"url": url, "page": page, "links": links, "children": children}


@flow(name="Docs Site Crawl")
def docs_crawl(root: str = ROOT_URL, depth: int = 2) -> int:
    logger = get_run_logger()
    seen: set[str] = set()
    tree = crawl(root, depth, seen)
    logger.info("crawled %d pages", len(seen))
    index = build_search_index(tree)
    return upload_index(index)
