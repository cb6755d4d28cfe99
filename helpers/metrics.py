"""Reading a run's ``metrics.csv`` back as one row per epoch."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

METRICS_FILE = "metrics.csv"  # the file Lightning's CSVLogger writes in each run folder


def metrics_file(log_dir: str | os.PathLike) -> Path:
    """The ``metrics.csv`` of a run folder (or the file itself), with a clear error if absent."""
    path = Path(log_dir)
    candidate = path if path.suffix == ".csv" else path / METRICS_FILE
    if not candidate.is_file():
        raise FileNotFoundError(
            f"no metrics file at {candidate}: pass the log folder of a finished run "
            f"(RunResult.log_dir) or its {METRICS_FILE}"
        )
    return candidate


def read_metrics(log_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per epoch; Lightning writes train and val metrics of an epoch on separate rows."""
    table = pd.read_csv(metrics_file(log_dir))
    if "epoch" not in table.columns:
        raise ValueError(f"{metrics_file(log_dir)} has no 'epoch' column; is it a Lightning CSVLogger file?")
    # The test row is logged after fit at the epoch after the last: it is not a training epoch.
    table = table.drop(columns=[c for c in table.columns if c == "step" or c.startswith("test_")])
    per_epoch = table.dropna(subset=["epoch"]).groupby("epoch", sort=True).mean(numeric_only=True)
    per_epoch = per_epoch.dropna(how="all")
    per_epoch.index = per_epoch.index.astype(int)
    return per_epoch
