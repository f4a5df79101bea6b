"""Daily invoice roll-up per customer."""

import dagy


@dagy.task(retries=1)
def load_invoices(day: str) -> list: ...


@dagy.task
def load_customers() -> dict: ...


@dagy.task
def join(invoices: list, customers: dict) -> list: ...


@dagy.task(timeout_seconds=120)
def publish(rows: list) -> None: ...


@dagy.flow(version="3")
def invoice_rollup(day: str):
    invoices = load_invoices(day)
    customers = load_customers()
    rows = join(invoices, customers)
    publish(rows)
