"""A live learning-rate schedule explorer for notebooks (core ipywidgets 7.7.1 or 8 + matplotlib, no ipympl).

Learners move sliders (family, base LR, warmup, eta_min, epochs, per-epoch or per-step stepping)
and see the schedule redrawn at once, with the warmup end, the peak and the LR at a chosen epoch
marked; their own scheduler can be overlaid on the reference. The plot is rendered to a PNG and
swapped into one ``ipywidgets.Output`` in a single state update (its ``outputs`` trait, which
JupyterLab, Notebook 7, Lightning Studio and Colab's widget manager all render from), so figures
never stack, flicker or stay open in pyplot, and no kernel is needed to test it. Impossible settings show the reason (from :mod:`helpers.schedule_families`) instead of a plot.

    from helpers.lr_explorer import lr_explorer
    lr_explorer("linear_warmup_cosine", warmup_epochs=10, total_epochs=100, compare=make_scheduler)
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.schedule_families import (
    COSINE_FAMILIES,
    FAMILIES,
    WARMUP_FAMILIES,
    ScheduleConfig,
    closed_form_curve,
)
from helpers.schedules import INTERVALS, LRCurve, SchedulerFactory, record_lr
from helpers.widgets_compat import mimebundle

_WIDE = {"description_width": "initial"}
_NUMBER_BOX = {"width": "230px"}
_CONFIG_CONTROLS = (
    "family",
    "base_lr",
    "warmup_epochs",
    "warmup_start_lr",
    "eta_min",
    "total_epochs",
    "interval",
    "step_size",
    "gamma",
)


def course_steps_per_epoch(batch_size: int = 32) -> int:
    """Optimizer steps per epoch of the course data (450 at batch 32), from the data module itself."""
    from helpers.data import CourseDataModule

    return CourseDataModule(batch_size).steps_per_epoch


def _lr_at_epoch(curve: LRCurve, epoch: int) -> float | None:
    """LR at the start of ``epoch``, or ``None`` when the curve is shorter than that."""
    index = epoch * curve.steps_per_epoch
    return float(curve.per_step[index]) if 0 <= index < len(curve.per_step) else None


def _x_axis(curve: LRCurve) -> np.ndarray:
    return curve.epoch_axis if curve.steps_per_epoch > 1 else np.arange(len(curve.per_step), dtype=float)


class LRExplorer:
    """The widget and the state tests read: ``controls``, ``last_curve``, ``message``, ``figure``.

    ``controls`` maps names (``family``, ``base_lr``, ``warmup_epochs``, ``warmup_start_lr``,
    ``eta_min``, ``total_epochs``, ``interval``, ``step_size``, ``gamma``, ``epoch``) to the
    ipywidgets; setting a control's ``value`` redraws, as a learner's click does.
    """

    def __init__(
        self,
        *,
        family: str,
        base_lr: float,
        warmup_epochs: int,
        warmup_start_lr: float,
        eta_min: float,
        total_epochs: int,
        interval: str,
        steps_per_epoch: int,
        batch_size: int | None,
        step_size: int,
        gamma: float,
        compare: SchedulerFactory | LRCurve | None,
        compare_label: str,
        epoch: int | None,
    ) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {tuple(FAMILIES)}, got {family!r}")
        if interval not in INTERVALS:
            raise ValueError(f"interval must be 'epoch' or 'step', got {interval!r}")
        for name, value in (("total_epochs", total_epochs), ("steps_per_epoch", steps_per_epoch)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        for name, value in (("warmup_epochs", warmup_epochs), ("step_size", step_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be a whole number, got {type(value).__name__}")
        if warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be 0 or more, got {warmup_epochs}")
        if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < total_epochs):
            raise ValueError(f"epoch (for the LR readout) must be a whole number in 0..{total_epochs - 1}, got {epoch!r}")
        for name, value in (("base_lr", base_lr), ("warmup_start_lr", warmup_start_lr), ("eta_min", eta_min), ("gamma", gamma)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if compare is not None and not isinstance(compare, LRCurve) and not callable(compare):
            raise TypeError(
                "compare must be a scheduler factory (a function optimizer -> scheduler) or an LRCurve "
                f"from record_lr, got {type(compare).__name__}"
            )

        self.steps_per_epoch = steps_per_epoch
        self.compare = compare
        self.compare_label = compare_label
        self.last_curve: LRCurve | None = None
        self.last_compare: LRCurve | None = None
        self.figure: Figure | None = None
        self.message = ""
        self.redraws = 0
        self._compare_cache: dict[tuple, LRCurve] = {}
        self._busy = False

        slider_max = max(300, total_epochs, warmup_epochs)
        batch_note = f" (batch size {batch_size})" if batch_size else ""
        self.controls: dict[str, widgets.Widget] = {
            "family": widgets.Dropdown(
                options=[(label, key) for key, label in FAMILIES.items()], value=family, description="schedule", style=_WIDE,
                layout={"width": "330px"},
            ),
            "interval": widgets.Dropdown(
                options=[("per epoch", "epoch"), ("per step (batch)", "step")], value=interval,
                description="step the scheduler", style=_WIDE, layout={"width": "300px"},
            ),
            "base_lr": widgets.FloatText(value=base_lr, step=0.01, description="base LR", style=_WIDE, layout=_NUMBER_BOX),
            "warmup_start_lr": widgets.FloatText(value=warmup_start_lr, step=0.001, description="warmup start LR", style=_WIDE, layout=_NUMBER_BOX),
            "eta_min": widgets.FloatText(value=eta_min, step=0.001, description="eta_min", style=_WIDE, layout=_NUMBER_BOX),
            "warmup_epochs": widgets.IntSlider(
                value=warmup_epochs, min=0, max=slider_max, description="warmup epochs", continuous_update=False, style=_WIDE
            ),
            "total_epochs": widgets.IntSlider(
                value=total_epochs, min=1, max=slider_max, description="total epochs", continuous_update=False, style=_WIDE
            ),
            "step_size": widgets.IntText(value=step_size, description="decay every (epochs)", style=_WIDE, layout=_NUMBER_BOX),
            "gamma": widgets.FloatText(value=gamma, step=0.05, description="gamma", style=_WIDE, layout=_NUMBER_BOX),
            "epoch": widgets.IntSlider(
                value=0 if epoch is None else epoch, min=0, max=max(total_epochs - 1, 0), description="LR at epoch",
                continuous_update=False, style=_WIDE,
            ),
        }
        self.steps_label = widgets.Label(f"{steps_per_epoch} steps per epoch{batch_note}")
        self.readout = widgets.Label("")
        self.message_box = widgets.HTML("")
        self.output = widgets.Output(layout=widgets.Layout(min_height="300px"))
        c = self.controls
        self.step_box = widgets.HBox([c["step_size"], c["gamma"]])
        self.widget = widgets.VBox(
            [
                widgets.HBox([c["family"], c["interval"], self.steps_label]),
                widgets.HBox([c["base_lr"], c["warmup_start_lr"], c["eta_min"]]),
                widgets.HBox([c["warmup_epochs"], c["total_epochs"]]),
                self.step_box,
                widgets.HBox([c["epoch"], self.readout]),
                self.message_box,
                self.output,
            ]
        )
        self.widget.add_class("lr-explorer")
        self.readout.add_class("lr-explorer-readout")
        self.message_box.add_class("lr-explorer-message")
        if epoch is None:
            c["epoch"].value = min(warmup_epochs, total_epochs - 1) if warmup_epochs > 0 else 0
        for control in c.values():
            control.observe(self._on_change, names="value")
        self._sync_controls()
        self.refresh()

    # --- state -------------------------------------------------------------------------------
    @property
    def readout_text(self) -> str:
        return self.readout.value

    def config(self) -> ScheduleConfig:
        """The current settings as a validated :class:`ScheduleConfig` (``ValueError`` if impossible)."""
        values = {name: self.controls[name].value for name in _CONFIG_CONTROLS}
        return ScheduleConfig(steps_per_epoch=self.steps_per_epoch, **values)

    def set(self, **values: Any) -> None:
        """Set several controls at once (names as in ``controls``) and redraw once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; the controls are {sorted(self.controls)}")
        self._busy = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
            self._sync_controls()
        finally:
            self._busy = False
        self.refresh()

    def _on_change(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._sync_controls()
        finally:
            self._busy = False
        self.refresh()

    def _sync_controls(self) -> None:
        """Grey out settings the family ignores and keep the epoch slider inside the run."""
        c = self.controls
        family = c["family"].value
        for name in ("warmup_epochs", "warmup_start_lr"):
            c[name].disabled = family not in WARMUP_FAMILIES
        c["eta_min"].disabled = family not in COSINE_FAMILIES
        self.step_box.layout.display = None if family == "step" else "none"
        c["epoch"].max = max(c["total_epochs"].value - 1, 0)

    # --- drawing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the curve from the controls and redraw (or show why the settings are impossible)."""
        self.redraws += 1
        try:
            config = self.config()
        except ValueError as error:
            self._show_problem(str(error))
            return
        curve = closed_form_curve(config)
        compare, compare_problem = self._compare_curve(config)
        self.last_curve, self.last_compare = curve, compare
        epoch = self.controls["epoch"].value
        self.figure = self._draw(config, curve, compare, epoch)
        self._set_message(compare_problem, severity="warning" if compare_problem else "")
        self.output.outputs = (self._png_output(self.figure),)
        self.readout.value = self._readout(curve, compare, epoch)

    def _show_problem(self, text: str) -> None:
        self.last_curve = self.last_compare = None
        self.figure = None
        self._set_message(text, severity="error")
        self.output.outputs = ()
        self.readout.value = "LR at epoch: (no schedule: fix the setting above)"

    def _set_message(self, text: str, *, severity: str) -> None:
        self.message = text
        colour = {"error": "#b00020", "warning": "#8a5300"}.get(severity, "inherit")
        self.message_box.value = (
            f'<div style="color:{colour};font-weight:600">⚠ {html.escape(text)}</div>' if text else ""
        )

    def _compare_curve(self, config: ScheduleConfig) -> tuple[LRCurve | None, str]:
        """The learner's curve: given as an LRCurve, or recorded from their factory (cached)."""
        if self.compare is None or isinstance(self.compare, LRCurve):
            return self.compare, ""
        key = (config.total_epochs, config.units_per_epoch, config.interval, config.base_lr)
        if key not in self._compare_cache:
            try:
                self._compare_cache[key] = record_lr(
                    self.compare,
                    config.total_epochs,
                    steps_per_epoch=config.units_per_epoch,
                    interval=config.interval,
                    base_lr=config.base_lr,
                )
            except Exception as error:  # the learner's code: report it, keep the reference visible
                return None, f"Your scheduler could not be recorded ({type(error).__name__}: {error})"
        return self._compare_cache[key], ""

    def _draw(self, config: ScheduleConfig, curve: LRCurve, compare: LRCurve | None, epoch: int) -> Figure:
        fig = Figure(figsize=(8.8, 3.6), dpi=96)
        ax = fig.subplots()
        x = _x_axis(curve)
        style = {"marker": ".", "markersize": 3} if curve.steps_per_epoch == 1 else {}
        ax.plot(x, curve.per_step, label=f"reference: {FAMILIES[config.family]}", color="tab:blue", **style)
        if compare is not None:
            compare_style = {"marker": "x", "markersize": 3} if compare.steps_per_epoch == 1 else {}
            ax.plot(_x_axis(compare), compare.per_step, "--", color="tab:orange", label=self.compare_label, **compare_style)
        if config.has_warmup:
            ax.axvline(config.warmup_epochs, color="tab:green", linestyle=":", label=f"warmup ends (epoch {config.warmup_epochs})")
        peak = int(np.argmax(curve.per_step))
        ax.plot(x[peak], curve.per_step[peak], "v", color="tab:red", markersize=8, label=f"peak {curve.per_step[peak]:.4g} at epoch {x[peak]:.4g}")
        lr = _lr_at_epoch(curve, epoch)
        if lr is not None:
            ax.plot(epoch, lr, "o", color="black", markersize=6, label=f"epoch {epoch}: {lr:.4g}")
        stepping = "per epoch" if config.interval == "epoch" else f"per step ({config.steps_per_epoch} steps/epoch)"
        ax.set_title(f"{FAMILIES[config.family]}, stepped {stepping}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_xlim(-0.5, config.total_epochs)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        fig.subplots_adjust(left=0.085, right=0.70, top=0.9, bottom=0.14)  # fixed: tight_layout doubles the cost
        return fig

    @staticmethod
    def _png_output(fig: Figure) -> dict[str, Any]:
        """The figure as one notebook output (PNG), so swapping it replaces the old plot atomically."""
        buffer = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
        return {
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "<LR schedule plot>"},
            "metadata": {},
        }

    def _readout(self, curve: LRCurve, compare: LRCurve | None, epoch: int) -> str:
        lr = _lr_at_epoch(curve, epoch)
        text = f"LR at epoch {epoch}: {lr:.6g}" if lr is not None else f"LR at epoch {epoch}: (after the run)"
        if compare is not None:
            yours = _lr_at_epoch(compare, epoch)
            text += f" · {self.compare_label}: " + (f"{yours:.6g}" if yours is not None else "(after its run)")
        return text

    # --- display -----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # widgets_compat: ipywidgets 7 (Colab) widgets have no _repr_mimebundle_ of their own.
        return mimebundle(self.widget, text=f"LR schedule explorer ({self.readout.value or self.message})")

    def __repr__(self) -> str:
        return f"LRExplorer(family={self.controls['family'].value!r}, {self.readout.value or self.message})"


def lr_explorer(
    family: str = "linear_warmup_cosine",
    *,
    base_lr: float = 0.1,
    warmup_epochs: int = 10,
    warmup_start_lr: float = 0.0,
    eta_min: float = 0.0,
    total_epochs: int = 100,
    interval: str = "epoch",
    steps_per_epoch: int | None = None,
    batch_size: int = 32,
    step_size: int = 30,
    gamma: float = 0.1,
    compare: SchedulerFactory | LRCurve | None = None,
    compare_label: str = "your schedule",
    epoch: int | None = None,
) -> LRExplorer:
    """Show a live LR-schedule explorer; returns the :class:`LRExplorer` (displays as the widget).

    ``family`` is one of ``helpers.schedule_families.FAMILIES``: ``"cosine"``,
    ``"linear_warmup_cosine"`` (pl_bolts ``LinearWarmupCosineAnnealingLR``), ``"exp_warmup_cosine"``,
    ``"constant"`` (warmup then constant), ``"step"`` (warmup then ``gamma`` every ``step_size`` epochs).
    Epoch counts are epochs in both intervals; ``interval="step"`` steps the scheduler every batch,
    with ``steps_per_epoch`` batches per epoch (default: the course data at ``batch_size``, 450 at 32).
    ``compare`` overlays the learner's schedule: a factory ``optimizer -> scheduler`` (recorded with
    :func:`helpers.schedules.record_lr` at the widget's epochs, interval and base LR) or an ``LRCurve``.
    ``epoch`` picks the epoch of the "LR at epoch k" readout (default: the end of warmup); per step,
    the readout is the LR of that epoch's first batch.
    Impossible settings (warmup >= total epochs, a negative LR, eta_min > base LR, ...) are shown as a
    message in the widget; only misuse of this function itself (unknown family, wrong types) raises.
    """
    if steps_per_epoch is None:
        steps_per_epoch = course_steps_per_epoch(batch_size)
        shown_batch: int | None = batch_size
    else:
        shown_batch = None
    return LRExplorer(
        family=family,
        base_lr=base_lr,
        warmup_epochs=warmup_epochs,
        warmup_start_lr=warmup_start_lr,
        eta_min=eta_min,
        total_epochs=total_epochs,
        interval=interval,
        steps_per_epoch=steps_per_epoch,
        batch_size=shown_batch,
        step_size=step_size,
        gamma=gamma,
        compare=compare,
        compare_label=compare_label,
        epoch=epoch,
    )
