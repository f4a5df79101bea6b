"""Grid search: one mapped training run per parameter combination, then pick the best."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import KFold

from dagy import flow, get_run_logger, task, unmapped

DEFAULT_GRID = {"n_estimators": [100, 300], "max_depth": [6, 12, None], "min_samples_leaf": [1, 5]}


@task(persist_result=True)
def prepare_dataset(path: str) -> pd.DataFrame:
    df = pd.read_parquet(path)
    return df.dropna(subset=["target"])


@task
def make_folds(data: pd.DataFrame, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(KFold(n_splits=k, shuffle=True, random_state=7).split(data))


@task(timeout_seconds=1800, tags=["training"])
def train_and_score(data: pd.DataFrame, folds: list, params: dict) -> float:
    X, y = data.drop(columns=["target"]), data["target"]
    errors = []
    for train_idx, test_idx in folds:
        model = RandomForestRegressor(**params, n_jobs=-1).fit(X.iloc[train_idx], y.iloc[train_idx])
        errors.append(mean_absolute_error(y.iloc[test_idx], model.predict(X.iloc[test_idx])))
    return float(np.mean(errors))


@task
def select_best(combos: list[dict], scores: list[float]) -> dict:
    return combos[int(np.argmin(scores))]


@task(timeout_seconds=3600)
def train_final(data: pd.DataFrame, params: dict) -> RandomForestRegressor:
    return RandomForestRegressor(**params, n_jobs=-1).fit(data.drop(columns=["target"]),
                                                         data["target"])


@task
def log_model(model: RandomForestRegressor, params: dict) -> None:
    import mlflow

    with mlflow.start_run(run_name="rf-sweep-best"):
        mlflow.log_params(params)
        mlflow.sklearn.log_model(model, "model")


@flow(name="Hyperparameter Sweep")
def hyperparameter_sweep(dataset: str = "s3://acme-ml/demand/train.parquet",
                         grid: dict | None = None) -> dict:
    logger = get_run_logger()
    grid = grid or DEFAULT_GRID
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    logger.info("%d parameter combinations", len(combos))

    data = prepare_dataset(dataset)
    folds = make_folds(data, k=5)
    scores = train_and_score.map(unmapped(data), unmapped(folds), combos)

    best = select_best(combos, scores)
    final = train_final(data, best)
    log_model.submit(final, best).wait()
    return best
