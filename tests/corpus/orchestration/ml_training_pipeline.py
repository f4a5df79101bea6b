"""Churn model training: features and training are subflows of one pipeline."""

from __future__ import annotations

import pickle

import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from common.notifications import notify_failure
from common.tasks import read_table, send_slack, write_table
from dagy import flow, get_run_logger, task

DEFAULT_PARAMS = {"n_estimators": 300, "max_depth": 3, "learning_rate": 0.05}
AUC_THRESHOLD = 0.75


@task
def compute_features(events: pd.DataFrame, snapshot: str) -> pd.DataFrame:
    recent = events[events["ts"] <= snapshot]
    return recent.groupby("customer_id").agg(
        sessions=("session_id", "nunique"),
        orders=("order_id", "nunique"),
        churned=("churned", "max"),
    ).reset_index()


@task
def split_dataset(df: pd.DataFrame, test_size: float):
    return train_test_split(df, test_size=test_size, random_state=42, stratify=df["churned"])


@task(timeout_seconds=7200)
def fit_model(train: pd.DataFrame, params: dict) -> GradientBoostingClassifier:
    model = GradientBoostingClassifier(**params)
    model.fit(train.drop(columns=["customer_id", "churned"]), train["churned"])
    return model


@task
def evaluate(model: GradientBoostingClassifier, test: pd.DataFrame) -> dict:
    proba = model.predict_proba(test.drop(columns=["customer_id", "churned"]))[:, 1]
    return {"auc": float(roc_auc_score(test["churned"], proba)), "n_test": len(test)}


@task(retries=2)
def register_model(model: GradientBoostingClassifier, metrics: dict) -> str:
    path = f"/models/churn/auc-{metrics['auc']:.3f}.pkl"
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    return path


@flow(name="feature-build")
def feature_build(snapshot: str) -> str:
    raw = read_table("analytics.events")
    feats = compute_features(raw, snapshot)
    return write_table(feats, f"ml.churn_features_{snapshot.replace('-', '')}")


@flow(name="model-train")
def model_train(features_table: str, params: dict) -> dict:
    df = read_table(features_table)
    train, test = split_dataset(df, 0.2)
    model = fit_model(train, params)
    metrics = evaluate(model, test)
    return {"model": model, "metrics": metrics}


@flow(name="ML Training Pipeline", on_failure=[notify_failure])
def ml_training_pipeline(snapshot: str, params: dict | None = None) -> dict:
    logger = get_run_logger()
    features_table = feature_build(snapshot)
    result = model_train(features_table, params or DEFAULT_PARAMS)
    logger.info("metrics: %s", result["metrics"])

    if result["metrics"]["auc"] >= AUC_THRESHOLD:
        register_model(result["model"], result["metrics"])
    else:
        send_slack(f"Churn model below threshold: {result['metrics']}", channel="#ml")
    return result["metrics"]
