"""Async scraper: an async helper awaits two tasks per site; the flow calls it twice."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
from selectolax.parser import HTMLParser

from dagy import flow, task

SITES = [
    {"url": "https://docs.example-vendor.com/changelog", "parser": "changelog"},
    {"url": "https://status.example-vendor.com/history", "parser": "incidents"},
]
SITEMAP_URL = "https://docs.example-vendor.com/sitemap.xml"


@task(retries=3, retry_delay_seconds=[2, 10, 30])
async def download(url: str) -> str:
    async with httpx.AsyncClient(follow_redirects=True, timeout=30) as client:
        return (await client.get(url)).raise_for_status().text


@task
async def parse(html: str, parser: str) -> list[dict]:
    tree = HTMLParser(html)
    selector = {"changelog": "article h2", "incidents": ".incident-title", "sitemap": "loc"}[parser]
    return [{"text": node.text(strip=True), "kind": parser} for node in tree.css(selector)]


@task
async def dedupe(batches: list[list[dict]]) -> list[dict]:
    seen: dict[str, dict] = {}
    for batch in batches:
        for item in batch:
            seen.setdefault(hashlib.sha1(item["text"].encode()).hexdigest(), item)
    return list(seen.values())


@task
async def store(items: list[dict]) -> int:
    await asyncio.sleep(0)  # real code writes to the content index
    return len(items)


async def fetch_and_parse(url: str, parser: str) -> list[dict]:
    """Download one page and parse it with the named parser."""
    raw = await download(url)
    return await parse(raw, parser)


@flow(name="Async Scraper")
async def async_scraper(sites: list[dict] = SITES) -> int:
    results = []
    for site in sites:
        results.append(await fetch_and_parse(site["url"], site["parser"]))

    extra = await fetch_and_parse(SITEMAP_URL, "sitemap")
    merged = await dedupe(results + [extra])
    return await store(merged)


if __name__ == "__main__":
    print(asyncio.run(async_scraper()))
