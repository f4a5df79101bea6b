"""Parse a large file: most lines go through the task's plain function (`.fn`), which is
not a task run; one sample line is parsed as a tracked task run for the UI."""

from __future__ import annotations

import json

from dagy import flow, get_run_logger, task


@task
def load_file(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


@task
def parse_record(line: str) -> dict:
    ts, level, *rest = line.split("|", 2)
    return {"ts": ts.strip(), "level": level.strip(), "payload": json.loads(rest[0]) if rest else {}}


@task(retries=2)
def write_records(records: list[dict], table: str) -> int:
    with open(f"/data/out/{table}.jsonl", "w") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    return len(records)


@flow(name="Fn Call Flow")
def fn_call_flow(path: str = "data/records.txt") -> dict:
    logger = get_run_logger()
    lines = load_file(path)

    # Thousands of lines: one task run each would swamp the API, so call the function.
    records = [parse_record.fn(line) for line in lines]
    sample = parse_record(lines[0])

    written = write_records(records, "records")
    logger.info("wrote %d records; sample: %s", written, sample)
    return sample
