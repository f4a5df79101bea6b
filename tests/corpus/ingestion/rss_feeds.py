"""Aggregate industry RSS feeds and tag entries with our keyword list."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from dagy import flow, get_run_logger, task, unmapped

FEEDS = [
    "https://blog.example-analytics.com/rss.xml",
    "https://news.dataengineering.example/feed",
    "https://www.example-cloud.com/blog/feed.xml",
]


@task(retries=2, retry_delay_seconds=5)
def fetch_feed(url: str, timeout: float) -> str:
    return httpx.get(url, timeout=timeout, follow_redirects=True).raise_for_status().text


@task
def parse_entries(xml: str, source_tags: dict) -> list[dict]:
    root = ET.fromstring(xml)
    return [
        {"title": item.findtext("title"), "link": item.findtext("link"), **source_tags}
        for item in root.iter("item")
    ]


@task
def load_keywords() -> list[str]:
    with open("config/keywords.txt") as fh:
        return [line.strip().lower() for line in fh if line.strip()]


@task
def tag_entries(entries: list[dict], keywords: list[str]) -> list[dict]:
    for entry in entries:
        title = (entry["title"] or "").lower()
        entry["tags"] = [k for k in keywords if k in title]
    return entries


@task(tags=["storage"])
def store_entries(batches: list[list[dict]]) -> int:
    rows = [entry for batch in batches for entry in batch]
    # upsert by link into the content DB
    return len(rows)


@flow(name="RSS Aggregator")
def rss_aggregator(feeds: list[str] = FEEDS, timeout: float = 10.0) -> int:
    logger = get_run_logger()
    keywords = load_keywords()

    xml_docs = fetch_feed.map(feeds, timeout=unmapped(timeout))
    parsed = parse_entries.map(xml_docs, unmapped({"origin": "rss"}))
    tagged = tag_entries.map(parsed, unmapped(keywords))

    stored = store_entries(tagged)
    logger.info("stored %d entries from %d feeds", stored, len(feeds))
    return stored
