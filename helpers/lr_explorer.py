"""A live learning-rate schedule explorer for notebooks (core ipywidgets 7.7.1 or 8 + matplotlib, no ipympl).

Learners move sliders (family, base LR, warmup, eta_min, epochs, per-epoch or per-step stepping)
and see the schedule redrawn at once, with the warmup end, the peak and the LR at a chosen epoch
marked; their own scheduler can be overlaid on the reference. The plot is rendered to PNGs at two
widths (a wide one, and a narrow one with its panels stacked, shown by a container query where the
output area is narrow; see :mod:`helpers.theme`) and swapped into one ``ipywidgets.HTML`` in a single
state update, so figures never stack, flicker or stay open in pyplot, text stays readable down to a
360 px output area, and no kernel is needed to test it. The controls wrap onto new rows as the output
area narrows. Impossible settings show the reason (from :mod:`helpers.schedule_families`) instead of
a plot.

The learner's scheduler follows the sliders its factory takes (``warmup_epochs``, ``total_epochs``
or ``num_epochs``, ``total_steps``; see :func:`lr_explorer`). Stepped per batch, a scheduler whose
lengths are counted in epochs runs its whole schedule in the first few batches: the explorer says
so in one sentence and draws it readably (sampled once per epoch, plus epoch 0 batch by batch)
instead of a solid block of oscillation.

    from helpers.lr_explorer import lr_explorer
    lr_explorer("linear_warmup_cosine", warmup_epochs=10, total_epochs=100, compare=make_scheduler)
"""

from __future__ import annotations

import dataclasses
import html
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from helpers.data import BATCH_SIZE
from helpers.explorer_plot import (
    MIN_FONT_PT,
    NARROW,
    TITLE_FONT_PT,
    WIDE,
    PlotImage,
    PlotLayout,
    new_figure,
    plot_html,
    render_png,
)
from helpers.learner_code import MissingReturn, describe_factor, is_none_arithmetic
from helpers.schedule_families import (
    COSINE_FAMILIES,
    FAMILIES,
    WARMUP_FAMILIES,
    ScheduleConfig,
    check_common,
    closed_form_curve,
    closed_form_values,
)
from helpers.schedules import LRCurve, record_lr
from helpers.settings import BASE_LR, COURSE_EPOCHS
from helpers.theme import PLOT_FOREGROUND, plot_style, stylesheet, tone_class
from helpers.validate import require_at_least, require_int, require_number, require_whole
from helpers.widgets_compat import mimebundle

_WIDE = {"description_width": "initial"}
# Each control grows from a basis to a maximum and shrinks to a minimum; a row that cannot hold its
# controls at their minimum wraps (see helpers.theme), so nothing is cut at any output width.
_DROPDOWN = {"flex": "1 1 300px", "min_width": "240px", "max_width": "340px", "width": "auto"}
_NUMBER_BOX = {"flex": "1 1 230px", "min_width": "200px", "max_width": "240px", "width": "auto"}
# ~1.2 px per epoch over the 300-epoch range at full length; at least ~135 px of track beside its label
_SLIDER = {"flex": "1 1 260px", "min_width": "260px", "max_width": "430px", "width": "auto"}
_SLIDER_STYLE = {"description_width": "125px"}  # the three sliders' tracks start at the same x
_TYPED_BOX = {"width": "70px", "flex": "0 0 70px"}
_WRAPPING_TEXT = {"flex": "1 1 200px", "min_width": "0", "width": "auto", "height": "auto"}
_ROW = {"flex_flow": "row wrap"}
_FULL_WIDTH = {"align_self": "stretch", "width": "auto"}  # 100 % plus the widgets' margin would stick out
TOTAL_EPOCHS_MAX = 300  # the course trains 100 epochs; the slider reaches a few hundred
# Keyword parameters a compare factory may take after the optimizer, and what the explorer passes.
COMPARE_PARAMETERS = {
    "warmup_epochs": "the warmup slider, in epochs",
    "total_epochs": "the total-epochs slider",
    "num_epochs": "the total-epochs slider (same as total_epochs)",
    "total_steps": "scheduler steps in the run: total epochs (per epoch) or total epochs x steps per epoch (per step)",
}
_CACHE_LIMIT = 16
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


def course_steps_per_epoch(batch_size: int = BATCH_SIZE) -> int:
    """Optimizer steps per epoch of the course data (450 at batch 32), from the data module itself."""
    from helpers.data import CourseDataModule

    return CourseDataModule(batch_size).steps_per_epoch


def _lr_at_epoch(curve: LRCurve, epoch: int) -> float | None:
    """LR at the start of ``epoch``, or ``None`` when the curve is shorter than that."""
    index = epoch * curve.steps_per_epoch
    return float(curve.per_step[index]) if 0 <= index < len(curve.per_step) else None


def _x_axis(curve: LRCurve) -> np.ndarray:
    return curve.epoch_axis if curve.steps_per_epoch > 1 else np.arange(len(curve.per_step), dtype=float)


def compare_parameters(compare: object) -> tuple[str, ...]:
    """The slider values a compare factory takes (its parameters after the optimizer), checked."""
    try:
        parameters = list(inspect.signature(compare).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ()
    if not parameters:
        raise TypeError("compare must take the optimizer as its first argument (optimizer -> scheduler)")
    names = []
    for parameter in parameters[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in COMPARE_PARAMETERS:
            names.append(parameter.name)
        elif parameter.default is parameter.empty:
            known = ", ".join(COMPARE_PARAMETERS)
            raise TypeError(
                f"compare takes a parameter {parameter.name!r} the explorer cannot fill: after the optimizer it may "
                f"take {known} (e.g. lambda optimizer, total_epochs: make_scheduler(optimizer, total_epochs))"
            )
    return tuple(names)


class _NoScheduler(TypeError):
    """The learner's factory returned something that is not a scheduler (often: no ``return``)."""


def _describe_failure(label: str, error: Exception) -> str:
    if isinstance(error, (_NoScheduler, MissingReturn)):
        return str(error)
    text = f"{type(error).__name__}: {error}"
    if "NoneType" in str(error):
        text += " — a function of yours returned None: is a return line missing?"
    return f"Your scheduler could not be recorded ({text})"


def _check_arguments(*, family: str, interval: str, total_epochs: object, steps_per_epoch: object,
                     warmup_epochs: object, step_size: object, epoch: object, compare: object,
                     **numbers: object) -> None:
    """Misuse of :func:`lr_explorer` is an error saying which argument and what it should be."""
    check_common(family, interval, total_epochs, steps_per_epoch)
    for name, value in (("warmup_epochs", warmup_epochs), ("step_size", step_size)):
        require_int(name, value)
    require_at_least("warmup_epochs", warmup_epochs, 0, what="0 or more")  # type: ignore[arg-type]
    if epoch is not None:
        last = total_epochs - 1  # type: ignore[operator]
        require_whole("epoch (for the LR readout)", epoch, 0, maximum=last, what=f"a whole number in 0..{last}")
    for name, value in numbers.items():
        require_number(name, value)
    if compare is not None and not isinstance(compare, LRCurve) and not callable(compare):
        raise TypeError(
            "compare must be a scheduler factory (a function optimizer -> scheduler) or an LRCurve "
            f"from record_lr, got {type(compare).__name__}"
        )


def _make_controls(*, family: str, interval: str, base_lr: float, warmup_start_lr: float, eta_min: float,
                   warmup_epochs: int, total_epochs: int, step_size: int, gamma: float,
                   epoch: int | None) -> dict[str, widgets.Widget]:
    """One ipywidget per setting, named as the arguments of :func:`lr_explorer`."""
    total_max = max(TOTAL_EPOCHS_MAX, total_epochs)
    return {
        "family": widgets.Dropdown(
            options=[(label, key) for key, label in FAMILIES.items()], value=family, description="schedule",
                style=_WIDE,
            layout=_DROPDOWN,
        ),
        "interval": widgets.Dropdown(
            options=[("per epoch", "epoch"), ("per step (batch)", "step")], value=interval,
            description="step the scheduler", style=_WIDE, layout=_DROPDOWN,
        ),
        "base_lr": widgets.FloatText(value=base_lr, step=0.01, description="base LR", style=_WIDE, layout=_NUMBER_BOX),
        "warmup_start_lr": widgets.FloatText(value=warmup_start_lr, step=0.001, description="warmup start LR",
                                             style=_WIDE, layout=_NUMBER_BOX),
        "eta_min": widgets.FloatText(value=eta_min, step=0.001, description="eta_min", style=_WIDE, layout=_NUMBER_BOX),
        # warmup within the run: its maximum follows the total (see _sync_controls)
        "warmup_epochs": widgets.IntSlider(
            value=warmup_epochs, min=0, max=max(total_epochs, warmup_epochs), description="warmup epochs",
            continuous_update=False, readout=False, style=_SLIDER_STYLE, layout=_SLIDER,
        ),
        "total_epochs": widgets.IntSlider(
            value=total_epochs, min=1, max=total_max, description="total epochs", continuous_update=False,
            readout=False, style=_SLIDER_STYLE, layout=_SLIDER,
        ),
        "step_size": widgets.IntText(value=step_size, description="decay every (epochs)", style=_WIDE,
                                     layout=_NUMBER_BOX),
        "gamma": widgets.FloatText(value=gamma, step=0.05, description="gamma", style=_WIDE, layout=_NUMBER_BOX),
        "epoch": widgets.IntSlider(
            value=0 if epoch is None else epoch, min=0, max=max(total_epochs - 1, 0), description="LR at epoch",
            continuous_update=False, readout=False, style=_SLIDER_STYLE, layout=_SLIDER,
        ),
    }


def _typed_boxes(controls: Mapping[str, widgets.Widget]) -> dict[str, widgets.BoundedIntText]:
    """A typed value box beside each slider (two-way linked; the slider is the one observed)."""
    typed = {}
    for name in ("warmup_epochs", "total_epochs", "epoch"):
        slider = controls[name]
        box = widgets.BoundedIntText(value=slider.value, min=slider.min, max=slider.max, layout=_TYPED_BOX)
        box.add_class(f"lr-explorer-{name.replace('_', '-')}-box")
        widgets.dlink((slider, "max"), (box, "max"))
        widgets.link((slider, "value"), (box, "value"))
        typed[name] = box
    return typed


def _draw_zoom(zoom: Any, config: ScheduleConfig, curve: LRCurve, compare: LRCurve) -> None:
    """Epoch 0 batch by batch: where a schedule counted in epochs but stepped per batch runs out."""
    steps = min(config.steps_per_epoch, len(compare.per_step))
    zoom.plot(np.arange(steps), curve.per_step[:steps], color="tab:blue")
    zoom.plot(np.arange(steps), compare.per_step[:steps], "--", color="tab:orange")
    zoom.axvline(config.total_epochs, color="tab:gray", linestyle=":", linewidth=1)
    zoom.set_title("epoch 0, batch by batch", fontsize=TITLE_FONT_PT)
    zoom.set_xlabel(f"batch of epoch 0 (dotted: batch {config.total_epochs})", fontsize=MIN_FONT_PT)
    zoom.set_xlim(0, steps)
    zoom.set_ylim(bottom=0)
    zoom.grid(alpha=0.3)


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
        compare: Callable[..., object] | LRCurve | None,
        compare_label: str,
        epoch: int | None,
    ) -> None:
        _check_arguments(family=family, interval=interval, total_epochs=total_epochs, steps_per_epoch=steps_per_epoch,
                         warmup_epochs=warmup_epochs, step_size=step_size, epoch=epoch, base_lr=base_lr,
                         warmup_start_lr=warmup_start_lr, eta_min=eta_min, gamma=gamma, compare=compare)
        self.steps_per_epoch = steps_per_epoch
        self.compare = compare
        self.compare_label = compare_label
        is_function = compare is not None and not isinstance(compare, LRCurve)
        self.compare_params = compare_parameters(compare) if is_function else ()
        self.mismatch = False  # the last draw found the compared lengths counted in epochs but stepped per batch
        self.last_compare_per_epoch: LRCurve | None = None
        self.last_curve: LRCurve | None = None
        self.last_compare: LRCurve | None = None
        self.figure: Figure | None = None
        self.narrow_figure: Figure | None = None
        self.images: tuple[PlotImage, ...] = ()  # what the page shows: the wide and the narrow drawing
        self.message = ""
        self.redraws = 0
        self._compare_cache: dict[tuple, LRCurve] = {}
        self._busy = False

        batch_note = f" (batch size {batch_size})" if batch_size else ""
        self.controls = _make_controls(family=family, interval=interval, base_lr=base_lr,
                                       warmup_start_lr=warmup_start_lr, eta_min=eta_min, warmup_epochs=warmup_epochs,
                                       total_epochs=total_epochs, step_size=step_size, gamma=gamma, epoch=epoch)
        self.typed = _typed_boxes(self.controls)
        self.steps_label = widgets.Label(f"{steps_per_epoch} steps per epoch{batch_note}", layout=_WRAPPING_TEXT)
        self.steps_label.add_class("lr-explorer-wrap")
        self.widget = self._layout()
        c = self.controls
        if epoch is None:
            c["epoch"].value = min(warmup_epochs, total_epochs - 1) if warmup_epochs > 0 else 0
        for control in c.values():
            control.observe(self._on_change, names="value")
        self._sync_and_refresh()

    def _layout(self) -> widgets.VBox:
        """The controls in wrapping rows, with the readout, message and plot below; creates those three."""
        self.readout = widgets.Label("", layout=_WRAPPING_TEXT)
        self.message_box = widgets.HTML("", layout=_FULL_WIDTH)
        self.plot = widgets.HTML("", layout={**_FULL_WIDTH, "min_height": "300px"})
        c = self.controls
        self.step_box = widgets.HBox([c["step_size"], c["gamma"]], layout=_ROW)
        rows = [
            widgets.HBox([c["family"], c["interval"], self.steps_label], layout=_ROW),
            widgets.HBox([c["base_lr"], c["warmup_start_lr"], c["eta_min"]], layout=_ROW),
            widgets.HBox([c["warmup_epochs"], self.typed["warmup_epochs"]], layout=_ROW),
            widgets.HBox([c["total_epochs"], self.typed["total_epochs"]], layout=_ROW),
            self.step_box,
            widgets.HBox([c["epoch"], self.typed["epoch"], self.readout], layout=_ROW),
        ]
        for row in rows:
            row.add_class("lr-explorer-row")
        style = widgets.HTML(stylesheet(), layout={"display": "none"})  # a hidden <style> still applies
        widget = widgets.VBox([style, *rows, self.message_box, self.plot])
        widget.add_class("lr-explorer")
        self.readout.add_class("lr-explorer-readout")
        self.readout.add_class("lr-explorer-wrap")
        self.message_box.add_class("lr-explorer-message")
        self.plot.add_class("lr-explorer-plot-box")
        return widget

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
        if not self._busy:
            self._sync_and_refresh()

    def _sync_and_refresh(self) -> None:
        """Adjust the controls (their own changes do not redraw: ``_busy``), then redraw once."""
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
        # warmup within the run; a warmup as long as the run stays possible, so the reason is shown
        c["warmup_epochs"].max = c["total_epochs"].value

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
        self.mismatch, self.last_compare_per_epoch = False, None
        per_step_function = config.interval == "step" and not isinstance(self.compare, LRCurve)
        if compare is not None and not compare_problem and per_step_function:
            compare_problem = self._mismatch_sentence(config, curve, compare)
        epoch = self.controls["epoch"].value
        self.figure = self._draw(config, curve, compare, epoch, WIDE)
        self.narrow_figure = self._draw(config, curve, compare, epoch, NARROW)
        self._set_message(compare_problem, severity="warning" if compare_problem else "")
        self.images = (render_png(self.figure, WIDE), render_png(self.narrow_figure, NARROW))
        self.plot.value = plot_html(self.images, alt=f"LR schedule plot: {self._readout(curve, compare, epoch)}")
        self.readout.value = self._readout(curve, compare, epoch)

    def _show_problem(self, text: str) -> None:
        self.last_curve = self.last_compare = None
        self.figure = self.narrow_figure = None
        self.images = ()
        self._set_message(text, severity="error")
        self.plot.value = ""
        self.readout.value = "LR at epoch: (no schedule: fix the setting above)"

    def _set_message(self, text: str, *, severity: str) -> None:
        self.message = text
        tone = tone_class("error" if severity == "error" else "warn")
        self.message_box.value = (
            f'<div class="{tone}" style="font-weight:600">⚠ {html.escape(text)}</div>' if text else ""
        )

    def _compare_kwargs(self, config: ScheduleConfig, interval: str) -> dict[str, int]:
        units = config.steps_per_epoch if interval == "step" else 1
        values = {
            "warmup_epochs": config.warmup_epochs,
            "total_epochs": config.total_epochs,
            "num_epochs": config.total_epochs,
            "total_steps": config.total_epochs * units,
        }
        return {name: values[name] for name in self.compare_params}

    def _record_compare(self, config: ScheduleConfig, interval: str) -> LRCurve:
        """The learner's factory, given the sliders it takes, stepped at ``interval`` (cached)."""
        kwargs = self._compare_kwargs(config, interval)
        units = config.steps_per_epoch if interval == "step" else 1
        key = (config.total_epochs, units, interval, config.base_lr, tuple(sorted(kwargs.items())))
        if key not in self._compare_cache:
            factory, label = self.compare, self.compare_label

            def make(optimizer: Any) -> object:
                try:
                    scheduler = factory(optimizer, **kwargs)  # type: ignore[misc, operator]
                except TypeError as error:  # name the learner's function, not this wrapper
                    if is_none_arithmetic(error):
                        raise MissingReturn(describe_factor(factory), "a number") from error
                    raise
                if scheduler is None:
                    raise _NoScheduler(f"{label} returned None instead of a scheduler: is its return line missing?")
                return scheduler

            if len(self._compare_cache) >= _CACHE_LIMIT:
                self._compare_cache.clear()
            self._compare_cache[key] = record_lr(
                make, config.total_epochs, steps_per_epoch=units, interval=interval, base_lr=config.base_lr
            )
        return self._compare_cache[key]

    def _compare_curve(self, config: ScheduleConfig) -> tuple[LRCurve | None, str]:
        """The learner's curve: given as an LRCurve, or recorded from their factory (cached)."""
        if self.compare is None or isinstance(self.compare, LRCurve):
            return self.compare, ""
        try:
            return self._record_compare(config, config.interval), ""
        except Exception as error:  # noqa: BLE001 - the learner's code: report it, keep the reference visible
            return None, _describe_failure(self.compare_label, error)

    def _mismatch_sentence(self, config: ScheduleConfig, curve: LRCurve, compare: LRCurve) -> str:
        """One sentence when the learner's lengths are counted in epochs but it is stepped per batch.

        Signs: its first ``total_epochs`` batches replay, value for value, the schedule it gives when
        stepped once per epoch (so its lengths did not scale with the stepping), that schedule is
        not flat, and it matches the per-epoch reference better than its per-batch curve matches
        the per-batch reference.
        """
        try:
            per_epoch = self._record_compare(config, "epoch")
        except Exception:  # noqa: BLE001 - already recorded per step, so this is not expected
            return ""
        n = config.total_epochs
        first, whole = compare.per_step[:n], per_epoch.per_step
        scale = max(float(np.max(np.abs(whole))), 1e-12)
        if len(first) < n or np.ptp(whole) <= 1e-9 * scale or not np.allclose(first, whole, rtol=1e-6,
            atol=1e-9 * scale):
            return ""
        reference_epoch = closed_form_values(dataclasses.replace(config, interval="epoch"))
        fits_epochs = float(np.mean(np.abs(whole - reference_epoch)))
        fits_steps = float(np.mean(np.abs(compare.per_step - curve.per_step)))
        if fits_epochs >= fits_steps:
            return ""
        self.mismatch, self.last_compare_per_epoch = True, per_epoch
        total = n * config.steps_per_epoch
        return (
            f"{self.compare_label} counts its lengths in epochs but is stepped after every batch here, so its whole "
            f"schedule runs in the first {n} of {total:,} steps (first panel: sampled once per epoch; second: epoch 0 "
            f"batch by batch); count warmup and total in optimizer steps (epochs × {config.steps_per_epoch}) for "
            f"per-step stepping."
        )

    def _draw(self, config: ScheduleConfig, curve: LRCurve, compare: LRCurve | None, epoch: int,
              layout: PlotLayout) -> Figure:
        fig = new_figure(layout, self.mismatch)
        with plot_style():
            if self.mismatch:
                ax, zoom = fig.subplots(*layout.panels(), **layout.ratios())
            else:
                ax, zoom = fig.subplots(), None
            self._draw_main(ax, config, curve, compare, epoch, title_break="\n" if layout.stacked else " ")
            if zoom is not None and compare is not None:
                _draw_zoom(zoom, config, curve, compare)
            # legend below the axes, inside the figure (never clipped at the right edge)
            fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.01),
                       ncol=layout.legend_columns, fontsize=MIN_FONT_PT, borderaxespad=0, columnspacing=1.2)
            layout.arrange(fig)  # fixed margins: tight_layout doubles the cost
        return fig

    def _draw_main(self, ax: Any, config: ScheduleConfig, curve: LRCurve, compare: LRCurve | None,
                   epoch: int, *, title_break: str) -> None:
        x = _x_axis(curve)
        style = {"marker": ".", "markersize": 3} if curve.steps_per_epoch == 1 else {}
        ax.plot(x, curve.per_step, label=f"reference: {FAMILIES[config.family]}", color="tab:blue", **style)
        if compare is not None and self.mismatch:
            # one value per epoch (each epoch's first batch) instead of an unreadable block of oscillation
            sampled = compare.per_step[:: compare.steps_per_epoch]
            ax.plot(np.arange(len(sampled)), sampled, "--", color="tab:orange", marker="x", markersize=3,
                    label=f"{self.compare_label} (sampled once per epoch)")
        elif compare is not None:
            compare_style = {"marker": "x", "markersize": 3} if compare.steps_per_epoch == 1 else {}
            ax.plot(_x_axis(compare), compare.per_step, "--", color="tab:orange", label=self.compare_label,
                    **compare_style)
        if config.has_warmup:
            ax.axvline(config.warmup_epochs, color="tab:green", linestyle=":",
                       label=f"warmup ends (epoch {config.warmup_epochs})")
        peak = int(np.argmax(curve.per_step))
        ax.plot(x[peak], curve.per_step[peak], "v", color="tab:red", markersize=8,
                label=f"peak {curve.per_step[peak]:.4g} at epoch {x[peak]:.4g}")
        lr = _lr_at_epoch(curve, epoch)
        if lr is not None:
            ax.plot(epoch, lr, "o", color=PLOT_FOREGROUND, markersize=6, label=f"epoch {epoch}: {lr:.4g}")
        stepping = "per epoch" if config.interval == "epoch" else f"per step ({config.steps_per_epoch}/epoch)"
        ax.set_title(f"{FAMILIES[config.family]},{title_break}stepped {stepping}", fontsize=TITLE_FONT_PT)
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_xlim(-0.5, config.total_epochs)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)

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
    base_lr: float = BASE_LR,
    warmup_epochs: int = 10,
    warmup_start_lr: float = 0.0,
    eta_min: float = 0.0,
    total_epochs: int = COURSE_EPOCHS,
    interval: str = "epoch",
    steps_per_epoch: int | None = None,
    batch_size: int = BATCH_SIZE,
    step_size: int = 30,
    gamma: float = 0.1,
    compare: Callable[..., object] | LRCurve | None = None,
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
