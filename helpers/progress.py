"""One tidy progress line per training run instead of Lightning's per-epoch bars.

In a notebook the line is a single display that is updated in place, so the saved notebook
keeps only its final state; in a terminal it is rewritten with a carriage return.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import lightning as L


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the kit
        return False
    shell = get_ipython()
    # Colab's shell is a subclass (google.colab._shell.Shell), so look along the class hierarchy.
    return shell is not None and any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


class EpochProgress(L.Callback):
    """Shows ``epoch k/N`` with the latest epoch metrics, updated once per epoch.

    The line for epoch k is drawn when epoch k+1 starts (and when training ends): Lightning calls
    a callback's ``on_train_epoch_end`` before the module's, so the train metrics the module logs
    there would otherwise show one epoch late.
    """

    def __init__(self, keys: tuple[str, ...] = ("train_loss", "train_acc", "val_acc")) -> None:
        self.keys = keys
        self._handle: Any = None
        self._start = 0.0

    def _show(self, text: str, final: bool = False) -> None:
        if _in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display({"text/plain": text}, raw=True, display_id=True)
            else:
                self._handle.update({"text/plain": text}, raw=True)
        elif sys.stderr.isatty() or final:
            end = "\n" if final else ""
            print(f"\r{text}", end=end, file=sys.stderr, flush=True)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._handle = None
        self._start = time.perf_counter()

    def _report(self, trainer: L.Trainer, epochs_done: int) -> None:
        metrics = trainer.callback_metrics
        shown = " · ".join(f"{k} {float(metrics[k]):.4f}" for k in self.keys if k in metrics)
        elapsed = time.perf_counter() - self._start
        self._show(f"epoch {epochs_done}/{trainer.max_epochs} · {shown} · {elapsed:.0f} s")

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch > 0:
            self._report(trainer, trainer.current_epoch)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._report(trainer, trainer.current_epoch)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not _in_notebook() and sys.stderr.isatty():
            print(file=sys.stderr)
