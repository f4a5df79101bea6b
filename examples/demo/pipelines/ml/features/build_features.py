"""Customer features for the churn model, from shared tasks."""

from common.tasks import read_table, write_table
from dagy import flow, task


@task
def rolling_aggregates(orders: list, window_days: int) -> list: ...


@task
def label_churn(customers: list, features: list) -> list: ...


@flow(name="build_features")
def build_features(window_days: int = 28):
    orders = read_table("warehouse.orders")
    customers = read_table("warehouse.customers")
    features = rolling_aggregates(orders, window_days)
    labelled = label_churn(customers, features)
    write_table(labelled, "ml.churn_features")
