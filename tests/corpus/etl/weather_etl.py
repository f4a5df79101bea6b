"""Hourly weather observations for the cities we have stores in."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import requests

from dagy import flow, get_run_logger, task
from dagy.tasks import task_input_hash

CITIES = ["Berlin", "Lisbon", "Toronto", "Austin", "Osaka"]
API = "https://api.open-meteo.example/v1/observations"


@task(
    retries=3,
    retry_delay_seconds=[10, 30, 60],
    cache_key_fn=task_input_hash,
    cache_expiration=timedelta(hours=1),
)
def fetch_observation(city: str, run_date: str) -> dict:
    resp = requests.get(API, params={"city": city, "date": run_date}, timeout=20)
    resp.raise_for_status()
    body = resp.json()
    return {"temp_c": body.get("temperature"), "humidity": body.get("humidity"),
            "observed_at": body.get("time")}


@task
def quality_check(frame: pd.DataFrame) -> pd.DataFrame:
    out_of_range = frame[(frame["temp_c"] < -60) | (frame["temp_c"] > 60)]
    if not out_of_range.empty:
        raise ValueError(f"implausible temperatures: {out_of_range['city'].tolist()}")
    return frame


@task(tags=["warehouse"])
def write_weather(frame: pd.DataFrame, run_date: str) -> int:
    frame.assign(run_date=run_date).to_sql("weather_hourly", "postgresql://warehouse/ext",
                                           if_exists="append", index=False)
    return len(frame)


@flow(name="weather-etl", flow_run_name="weather-{run_date}")
def weather_etl(run_date: str, cities: list[str] = CITIES) -> int:
    logger = get_run_logger()
    rows = []
    for city in cities:
        obs = fetch_observation(city, run_date)
        rows.append({"city": city, **obs})

    frame = pd.DataFrame(rows)
    frame = frame.dropna(subset=["temp_c"])
    frame["temp_f"] = frame["temp_c"] * 9 / 5 + 32
    logger.info("%d observations after dropping gaps", len(frame))

    checked = quality_check(frame)
    return write_weather(checked, run_date)
