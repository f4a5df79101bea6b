"""Sessionize raw web events and compute the signup funnel.

This file imports the decorators under short aliases, as the web team's template does.
"""

from __future__ import annotations

import pandas as pd
from user_agents import parse as parse_ua

from dagy import flow as F
from dagy import task as T

RAW = "s3://acme-events/raw"
CURATED = "s3://acme-events/curated"
FUNNEL_STEPS = ["landing", "pricing", "signup_form", "signup_done"]


@T(retries=2, retry_delay_seconds=20)
def load_events(pattern: str) -> pd.DataFrame:
    return pd.read_json(pattern, lines=True)


@T
def parse_user_agents(df: pd.DataFrame) -> pd.DataFrame:
    agents = df["user_agent"].map(parse_ua)
    return df.assign(is_mobile=agents.map(lambda a: a.is_mobile),
                     browser=agents.map(lambda a: a.browser.family))


@T
def sessionize(df: pd.DataFrame, gap_minutes: int) -> pd.DataFrame:
    df = df.sort_values(["anonymous_id", "ts"])
    gap = df.groupby("anonymous_id")["ts"].diff() > pd.Timedelta(minutes=gap_minutes)
    df["session_id"] = gap.groupby(df["anonymous_id"]).cumsum()
    return df


@T(persist_result=True)
def compute_funnel(sessions: pd.DataFrame, steps: list[str]) -> pd.DataFrame:
    reached = sessions[sessions["page"].isin(steps)]
    counts = reached.groupby("page")["session_id"].nunique().reindex(steps, fill_value=0)
    return counts.rename("sessions").reset_index()


@T(tags=["lake"])
def write_parquet(df: pd.DataFrame, path: str) -> str:
    df.to_parquet(path, index=False)
    return path


@F(name="web-events-sessionize", log_prints=True)
def web_events(day: str, gap_minutes: int = 30) -> None:
    events = load_events(f"{RAW}/{day}/*.json")
    events = parse_user_agents(events)

    sessions = sessionize(events, gap_minutes)
    write_parquet(sessions, f"{CURATED}/sessions/{day}.parquet")

    funnel = compute_funnel(sessions, FUNNEL_STEPS)
    write_parquet(funnel, f"{CURATED}/funnel/{day}.parquet")
    print(funnel.head(len(FUNNEL_STEPS)))
