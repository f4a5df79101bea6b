"""Star / fork / contributor statistics for the open-source repositories we maintain."""

from __future__ import annotations

import json
import os
from datetime import date

import requests

from dagy import flow, get_run_logger, task

API = "https://api.github.com"
DEFAULT_REPOS = ["acme/dagy-examples", "acme/pipelines-toolkit", "acme/schema-registry"]


def _headers() -> dict[str, str]:
    token = os.environ.get("GITHUB_TOKEN")
    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["github"])
def fetch_repo(owner: str, repo: str) -> dict:
    resp = requests.get(f"{API}/repos/{owner}/{repo}", headers=_headers(), timeout=20)
    resp.raise_for_status()
    body = resp.json()
    return {"repo": f"{owner}/{repo}", "stars": body["stargazers_count"],
            "forks": body["forks_count"], "open_issues": body["open_issues_count"]}


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["github"])
def fetch_contributors(owner: str, repo: str) -> list[str]:
    resp = requests.get(f"{API}/repos/{owner}/{repo}/contributors",
                        headers=_headers(), params={"per_page": 100}, timeout=20)
    resp.raise_for_status()
    return [c["login"] for c in resp.json()]


@task
def summarize(repos: list[dict], contributors: list[list[str]]) -> dict:
    for repo, people in zip(repos, contributors):
        repo["contributors"] = len(people)
    return {"generated": date.today().isoformat(), "repos": repos,
            "unique_contributors": len({p for people in contributors for p in people})}


@task
def save_json(payload: dict, path: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2)
    return path


@flow(name="github-repo-stats", log_prints=True)
def github_repo_stats(repos: list[str] = DEFAULT_REPOS) -> str:
    logger = get_run_logger()
    repo_futures = []
    contrib_futures = []
    for full_name in repos:
        owner, name = full_name.split("/")
        repo_futures.append(fetch_repo.submit(owner, name))
        contrib_futures.append(fetch_contributors.submit(owner, name))

    repo_data = [f.result() for f in repo_futures]
    contributors = [f.result() for f in contrib_futures]
    logger.info("fetched %d repositories", len(repo_data))

    report = summarize(repo_data, contributors)
    return save_json(report, f"reports/github/{date.today():%Y-%m-%d}.json")
