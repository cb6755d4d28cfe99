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
    from IPython import get_ipython  # a dependency of the kit (jupyterlab, ipywidgets)

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


class EpochReporter(EpochProgress):
    """``EpochProgress`` that hands each epoch's numbers to ``send`` instead of drawing them.

    Used inside a sweep (possibly in a worker process): the sweep's one display draws them.
    """

    def __init__(self, send: Any, keys: tuple[str, ...] = ("val_acc",)) -> None:
        super().__init__(keys)
        self._send = send

    def _report(self, trainer: L.Trainer, epochs_done: int) -> None:
        metrics = trainer.callback_metrics
        shown = {k: float(metrics[k]) for k in self.keys if k in metrics}
        self._send(("epoch", epochs_done, trainer.max_epochs, shown))


class RunsProgress:
    """One line for several trainings (a sweep), running one after another or side by side.

    ``update(label, ...)`` records a run's latest epoch; the line shows how many runs are done,
    the ones in progress and the elapsed time. In a notebook it is one display updated in place
    (at most a few times a second), in a terminal a line rewritten with a carriage return, and
    elsewhere only the final line is written.
    """

    def __init__(self, total: int, min_interval: float = 0.25) -> None:
        self.total = total
        self.min_interval = min_interval
        self._running: dict[str, str] = {}
        self._finished = 0
        self._start = time.perf_counter()
        self._last = -float("inf")
        self._handle: Any = None

    def update(self, label: str, epochs_done: int, max_epochs: int, metrics: dict[str, float]) -> None:
        shown = "".join(f" {k} {v:.4f}" for k, v in metrics.items())
        self._running[label] = f"{label} epoch {epochs_done}/{max_epochs}{shown}"
        self._draw()

    def finish(self, label: str) -> None:
        self._running.pop(label, None)
        self._finished += 1
        self._draw(force=self._finished == self.total)

    def text(self) -> str:
        parts = [f"{self._finished}/{self.total} trained"]
        if self._running:
            parts.append(" | ".join(self._running.values()))
        parts.append(f"{time.perf_counter() - self._start:.0f} s")
        return " · ".join(parts)

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        text = self.text()
        if _in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display({"text/plain": text}, raw=True, display_id=True)
            else:
                self._handle.update({"text/plain": text}, raw=True)
        elif sys.stderr.isatty():
            print(f"\r{text}\x1b[K", end="\n" if force else "", file=sys.stderr, flush=True)
        elif force:
            print(text, file=sys.stderr, flush=True)
