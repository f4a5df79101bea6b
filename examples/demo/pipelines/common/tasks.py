"""Tasks shared by several teams' flows."""

from dagy import task


@task(retries=2)
def read_table(name: str) -> list: ...


@task
def write_table(rows: list, name: str) -> int: ...
