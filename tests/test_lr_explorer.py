"""Headless tests of the LR explorer: drive the controls, read what was plotted and shown."""

from __future__ import annotations

import base64
import io
import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

import helpers  # noqa: F401  (installs the kit's warning filters before pl_bolts is imported)
from helpers.lr_explorer import LRExplorer, lr_explorer
from helpers.schedule_families import FAMILIES, ScheduleConfig, recorded_curve
from helpers.schedules import LRCurve, record_lr
from helpers.theme import PLOT_FOREGROUND, WIDE_PLOT_MIN_PX

SPE = 6  # a small steps-per-epoch keeps per-step recordings fast
# lr_explorer annotates ``compare`` as a one-parameter factory, yet takes factories with slider parameters after the
# optimizer (helpers.lr_explorer.compare_parameters): the calls passing one carry an ignore saying "slider parameters".


def plotted(explorer: LRExplorer, label_prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y data of the line whose legend label starts with ``label_prefix``."""
    assert explorer.figure is not None, f"nothing plotted; message: {explorer.message!r}"
    lines = [line for line in explorer.figure.axes[0].lines if str(line.get_label()).startswith(label_prefix)]
    assert len(lines) == 1, [line.get_label() for line in explorer.figure.axes[0].lines]
    return np.asarray(lines[0].get_xdata(), dtype=float), np.asarray(lines[0].get_ydata(), dtype=float)


def png_bytes(explorer: LRExplorer) -> bytes:
    """The wide drawing as the page receives it (decoded from the plot's HTML)."""
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', explorer.plot.value)
    assert len(sources) == 2, "one wide and one narrow drawing"
    assert [base64.b64decode(source) for source in sources] == [image.png for image in explorer.images]
    return base64.b64decode(sources[0])


@pytest.fixture
def explorer() -> LRExplorer:
    return lr_explorer(steps_per_epoch=SPE)


def test_default_is_the_course_schedule_at_450_steps_per_epoch() -> None:
    explorer = lr_explorer()
    assert explorer.steps_per_epoch == 450
    assert explorer.steps_label.value == "450 steps per epoch (batch size 32)"
    assert explorer.message == ""
    # readout defaults to the end of warmup, where pl_bolts has reached the base LR
    assert explorer.readout_text == "LR at epoch 10: 0.1"


def test_linear_warmup_cosine_per_epoch_plots_pl_bolts_recorded(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["warmup_epochs"].value = 7
    c["total_epochs"].value = 40
    c["base_lr"].value = 0.05
    c["warmup_start_lr"].value = 0.001
    c["eta_min"].value = 0.0005
    x, y = plotted(explorer, "reference")
    bolts = record_lr(
        lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=7, max_epochs=40, warmup_start_lr=0.001,
                                                  eta_min=0.0005),
        40,
        base_lr=0.05,
    )
    np.testing.assert_allclose(y, bolts.per_step, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(x, np.arange(40))


def test_linear_warmup_cosine_per_step_plots_pl_bolts_stepped_every_batch(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["total_epochs"].value = 12
    c["warmup_epochs"].value = 3
    c["interval"].value = "step"
    x, y = plotted(explorer, "reference")
    bolts = record_lr(
        lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=3 * SPE, max_epochs=12 * SPE),
        12,
        steps_per_epoch=SPE,
        interval="step",
    )
    np.testing.assert_allclose(y, bolts.per_step, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x, bolts.epoch_axis)
    assert explorer.last_curve is not None and explorer.last_curve.steps_per_epoch == SPE


def test_cosine_only_plots_cosine_annealing_lr(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["family"].value = "cosine"
    c["total_epochs"].value = 30
    c["eta_min"].value = 0.01
    _, y = plotted(explorer, "reference")
    cosine = record_lr(lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=0.01), 30)
    np.testing.assert_allclose(y, cosine.per_step, rtol=0, atol=1e-12)
    assert explorer.figure is not None
    assert not [line for line in explorer.figure.axes[0].lines if str(line.get_label()).startswith("warmup ends")]


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_every_family_plots_its_recorded_scheduler(explorer: LRExplorer, family: str, interval: str) -> None:
    redraws = explorer.redraws
    explorer.set(
        total_epochs=20, warmup_epochs=4, warmup_start_lr=0.002, step_size=5, gamma=0.3, family=family,
            interval=interval
    )
    assert explorer.redraws == redraws + 1
    assert explorer.message == ""
    _, y = plotted(explorer, "reference")
    expected = recorded_curve(explorer.config())
    np.testing.assert_allclose(y, expected.per_step, rtol=0, atol=1e-12)


def test_marks_warmup_end_and_peak(explorer: LRExplorer) -> None:
    explorer.controls["warmup_epochs"].value = 8
    x, _y = plotted(explorer, "warmup ends (epoch 8)")
    assert set(x) == {8.0}
    peak_x, peak_y = plotted(explorer, "peak")
    # pl_bolts reaches the base LR at epoch W - 1
    assert (peak_x[0], peak_y[0]) == (7.0, pytest.approx(0.1))


def test_readout_shows_the_recorded_lr_at_the_chosen_epoch(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["warmup_epochs"].value = 5
    c["epoch"].value = 42
    expected = recorded_curve(ScheduleConfig(warmup_epochs=5, total_epochs=100)).per_step[42]
    assert explorer.readout_text == f"LR at epoch 42: {expected:.6g}"
    _, y = plotted(explorer, "epoch 42:")
    assert y[0] == pytest.approx(expected)
    c["interval"].value = "step"  # per step: the LR at the start of the epoch (its first batch)
    expected = recorded_curve(ScheduleConfig(warmup_epochs=5, interval="step", steps_per_epoch=SPE)).per_step[42 * SPE]
    assert explorer.readout_text == f"LR at epoch 42: {expected:.6g}"


def test_epoch_slider_follows_total_epochs(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["epoch"].value = 90
    c["total_epochs"].value = 50
    assert c["epoch"].max == 49 and c["epoch"].value == 49
    assert explorer.readout_text.startswith("LR at epoch 49: ")


IMPOSSIBLE = [
    ({"warmup_epochs": 100}, "The warmup (100 epochs) must end before training does (100 epochs)"),
    ({"base_lr": -0.1}, "The base LR must be positive, got -0.1"),
    ({"eta_min": 0.5}, "eta_min (0.5) is above the base LR (0.1)"),
    ({"warmup_start_lr": 0.3}, "The warmup start LR (0.3) is above the base LR (0.1)"),
    ({"family": "exp_warmup_cosine"}, "An exponential warmup cannot start at LR 0"),
    ({"warmup_epochs": 0}, "linear warmup + cosine needs at least 1 warmup epoch"),
    ({"family": "step", "gamma": 2.0}, "gamma (the factor applied at each decay) must be in (0, 1], got 2"),
]


@pytest.mark.parametrize(("settings", "message"), IMPOSSIBLE)
def test_impossible_settings_show_a_message_instead_of_a_plot(
    explorer: LRExplorer, settings: dict, message: str
) -> None:
    for name, value in settings.items():
        explorer.controls[name].value = value
    assert explorer.message.startswith(message), explorer.message
    assert message.replace("(", "") in explorer.message_box.value.replace("(", "")  # html-escaped, visible
    assert explorer.plot.value == "" and explorer.images == ()  # no stale curve left on screen
    assert explorer.last_curve is None and explorer.figure is None
    assert "no schedule" in explorer.readout_text


def test_fixing_the_setting_brings_the_plot_back(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["total_epochs"].value = 10  # warmup 10 >= total 10
    assert "must end before training does" in explorer.message
    c["warmup_epochs"].value = 3
    assert explorer.message == "" and explorer.message_box.value == ""
    assert len(explorer.images) == 2
    _, y = plotted(explorer, "reference")
    np.testing.assert_allclose(y, recorded_curve(ScheduleConfig(warmup_epochs=3, total_epochs=10)).per_step, atol=1e-12)


def test_impossible_constructor_settings_show_the_message_too() -> None:
    explorer = lr_explorer(warmup_epochs=20, total_epochs=20, steps_per_epoch=SPE)
    assert "must end before training does" in explorer.message
    assert explorer.controls["warmup_epochs"].value == 20  # not clamped into a different, valid setting


def test_redraws_replace_the_plot_and_leave_no_figure_open(explorer: LRExplorer) -> None:
    before = plt.get_fignums()
    c = explorer.controls
    images = {png_bytes(explorer)}
    for warmup in (2, 4, 6, 8):
        c["warmup_epochs"].value = warmup
        assert explorer.plot.value.count("<img") == 2
        images.add(png_bytes(explorer))
    c["interval"].value = "step"
    c["family"].value = "step"
    assert explorer.plot.value.count("<img") == 2
    assert len(images) == 5  # each setting drew a different picture
    assert plt.get_fignums() == before == []
    assert explorer.redraws == 7  # one redraw per change (the initial draw included)


def test_same_settings_draw_identical_images() -> None:
    first, second = lr_explorer(steps_per_epoch=SPE), lr_explorer(steps_per_epoch=SPE)
    assert png_bytes(first) == png_bytes(second)


def test_controls_a_family_ignores_are_disabled(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["family"].value = "cosine"
    assert c["warmup_epochs"].disabled and c["warmup_start_lr"].disabled and not c["eta_min"].disabled
    assert explorer.step_box.layout.display == "none"
    c["family"].value = "step"
    assert c["eta_min"].disabled and not c["warmup_epochs"].disabled
    assert explorer.step_box.layout.display is None


def learner_factory(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    """A plausible learner answer: warmup with LinearLR, then cosine, via SequentialLR."""
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=10)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=90)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[10])


def test_overlays_a_learner_factory_recorded_like_the_reference() -> None:
    explorer = lr_explorer(compare=learner_factory, compare_label="mine", steps_per_epoch=SPE, epoch=5)
    _, mine = plotted(explorer, "mine")
    expected = record_lr(learner_factory, 100, base_lr=0.1)
    np.testing.assert_allclose(mine, expected.per_step, rtol=0, atol=1e-12)
    _, reference = plotted(explorer, "reference")  # still there, underneath
    assert len(reference) == 100
    mine = expected.per_step[5]
    assert explorer.last_curve is not None
    assert explorer.readout_text == f"LR at epoch 5: {explorer.last_curve.per_step[5]:.6g} · mine: {mine:.6g}"
    explorer.controls["base_lr"].value = 0.2  # the learner's schedule scales with the base LR
    _, mine = plotted(explorer, "mine")
    np.testing.assert_allclose(mine, record_lr(learner_factory, 100, base_lr=0.2).per_step, atol=1e-12)


def test_overlays_a_recorded_curve_as_given() -> None:
    curve = record_lr(lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10, 0.5), 60, base_lr=0.1)
    explorer = lr_explorer(compare=curve, steps_per_epoch=SPE, epoch=80)
    x, y = plotted(explorer, "your schedule")
    np.testing.assert_array_equal(y, curve.per_step)
    np.testing.assert_array_equal(x, np.arange(60))
    assert explorer.last_compare is curve
    assert explorer.readout_text.endswith("your schedule: (after its run)")


def test_a_broken_learner_factory_is_reported_and_the_reference_still_shown() -> None:
    def broken(optimizer: torch.optim.Optimizer) -> object:
        raise NotImplementedError("fill in make_scheduler")

    explorer = lr_explorer(compare=broken, steps_per_epoch=SPE)
    assert explorer.message == "Your scheduler could not be recorded (NotImplementedError: fill in make_scheduler)"
    assert "fill in make_scheduler" in explorer.message_box.value
    plotted(explorer, "reference")
    assert explorer.last_compare is None


def test_misuse_raises_a_specific_error() -> None:
    with pytest.raises(ValueError, match="family must be one of"):
        lr_explorer("warmup", steps_per_epoch=SPE)
    with pytest.raises(ValueError, match=r"interval must be 'epoch' \(step once per epoch\) or 'step' \(once per"):
        lr_explorer(interval="batch", steps_per_epoch=SPE)
    with pytest.raises(TypeError, match=r"compare must be a scheduler factory .* got int"):
        lr_explorer(compare=3, steps_per_epoch=SPE)  # type: ignore[arg-type]  # the wrong type is the point
    with pytest.raises(ValueError, match="steps_per_epoch must be a whole number of at least 1"):
        lr_explorer(steps_per_epoch=0)
    with pytest.raises(TypeError, match="warmup_epochs must be a whole number"):
        lr_explorer(warmup_epochs=2.5, steps_per_epoch=SPE)  # type: ignore[arg-type]  # the wrong type is the point
    with pytest.raises(ValueError, match="warmup_epochs must be 0 or more, got -1"):
        lr_explorer(warmup_epochs=-1, steps_per_epoch=SPE)
    with pytest.raises(ValueError, match=r"epoch \(for the LR readout\) must be a whole number in 0..99, got 100"):
        lr_explorer(epoch=100, steps_per_epoch=SPE)


def test_set_rejects_unknown_controls(explorer: LRExplorer) -> None:
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['warmup'\]"):
        explorer.set(warmup=3)


def test_displays_as_the_widget(explorer: LRExplorer) -> None:
    bundle = explorer._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.widget.model_id
    assert bundle["text/plain"] == "LR schedule explorer (LR at epoch 10: 0.1)"
    assert isinstance(explorer.last_curve, LRCurve)


# --- the explorer explains the per-step mistake, follows the learner's sliders ------------------------


def bolts_factory(optimizer: torch.optim.Optimizer, length: int) -> LinearWarmupCosineAnnealingLR:
    """The learner's make_warmup_scheduler of Exercise 1: a 25 % warmup of ``length`` scheduler steps."""
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=int(0.25 * length), max_epochs=length,
                                         warmup_start_lr=0.0)


def epoch_counted(optimizer, total_epochs):
    return bolts_factory(optimizer, total_epochs)


def step_counted(optimizer, total_steps):
    return bolts_factory(optimizer, total_steps)


def test_per_step_with_lengths_in_epochs_is_explained_and_drawn_readably() -> None:
    explorer = lr_explorer(warmup_epochs=25, total_epochs=40, steps_per_epoch=SPE, compare=epoch_counted,
                           compare_label="make_warmup_scheduler")
    assert not explorer.mismatch and explorer.message == ""  # per epoch the lengths fit
    explorer.controls["interval"].value = "step"
    assert explorer.mismatch
    assert explorer.message == (
        f"make_warmup_scheduler counts its lengths in epochs but is stepped after every batch here, so its whole "
        f"schedule runs in the first 40 of {40 * SPE} steps (first panel: sampled once per epoch; second: epoch 0 "
        f"batch by batch); "
        f"count warmup and total in optimizer steps (epochs × {SPE}) for per-step stepping."
    )
    assert explorer.message.count(". ") == 0  # one sentence
    assert "⚠" in explorer.message_box.value
    x, y = plotted(explorer, "make_warmup_scheduler (sampled once per epoch)")
    np.testing.assert_array_equal(x, np.arange(40))  # one value per epoch, not 240 oscillating ones
    np.testing.assert_allclose(y, explorer.last_compare.per_step[::SPE])
    _main, zoom = explorer.figure.axes
    assert zoom.get_title() == "epoch 0, batch by batch"
    assert all(len(line.get_xdata()) == SPE for line in zoom.lines if line.get_linestyle() != ":")
    explorer.controls["interval"].value = "epoch"
    assert not explorer.mismatch and len(explorer.figure.axes) == 1


def test_the_course_case_at_450_steps_per_epoch() -> None:
    """The course's own case: Exercise 1's scheduler over 100 epochs stepped per batch (45,000 steps)."""
    explorer = lr_explorer(warmup_epochs=25, total_epochs=100, interval="step", compare=epoch_counted,
                           compare_label="make_warmup_scheduler")
    assert explorer.mismatch and "the first 100 of 45,000 steps" in explorer.message


def test_per_step_with_lengths_in_steps_is_not_flagged() -> None:
    explorer = lr_explorer(warmup_epochs=10, total_epochs=40, interval="step", steps_per_epoch=SPE,
                           compare=step_counted)
    assert not explorer.mismatch and explorer.message == ""
    _, mine = plotted(explorer, "your schedule")
    assert explorer.last_curve is not None and explorer.figure is not None
    np.testing.assert_allclose(mine, explorer.last_curve.per_step, atol=1e-12)  # it matches the reference
    assert len(explorer.figure.axes) == 1
    # hard-coded step lengths that fit the run are not "counted in epochs" either
    fixed = lr_explorer(warmup_epochs=10, total_epochs=40, interval="step", steps_per_epoch=SPE,
                        compare=lambda optimizer: bolts_factory(optimizer, 40 * SPE))
    assert not fixed.mismatch and fixed.message == ""


def test_a_flat_schedule_is_never_a_mismatch() -> None:
    explorer = lr_explorer("constant", warmup_epochs=3, total_epochs=20, interval="step", steps_per_epoch=SPE,
                           compare=lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0))
    assert not explorer.mismatch and explorer.message == ""


def linear_warmup(epoch: int, warmup_epochs: int = 5) -> float:
    return min((epoch + 1) / warmup_epochs, 1.0)


def lambda_compare(optimizer, warmup_epochs):
    """Notebook 00's explorer cell: the learner's linear_warmup at the slider's warmup."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: linear_warmup(epoch, warmup_epochs))


def test_the_learner_curve_follows_the_warmup_slider_in_notebook_00() -> None:
    explorer = lr_explorer("constant", warmup_epochs=5, total_epochs=20, steps_per_epoch=SPE, compare=lambda_compare,
                           compare_label="your linear_warmup")
    _, mine = plotted(explorer, "your linear_warmup")
    np.testing.assert_allclose(mine[:6], 0.1 * np.array([0.2, 0.4, 0.6, 0.8, 1, 1]))
    explorer.controls["warmup_epochs"].value = 8
    _, mine = plotted(explorer, "your linear_warmup")
    np.testing.assert_allclose(mine[:9], 0.1 * np.minimum((np.arange(9) + 1) / 8, 1))
    explorer.controls["interval"].value = "step"  # the LambdaLR counts epochs but is stepped per batch
    assert explorer.mismatch and explorer.message.startswith("your linear_warmup counts its lengths in epochs")


def test_the_learner_curve_follows_the_total_slider() -> None:
    explorer = lr_explorer(warmup_epochs=5, total_epochs=20, steps_per_epoch=SPE, compare=epoch_counted)
    explorer.controls["total_epochs"].value = 60
    _, mine = plotted(explorer, "your schedule")
    np.testing.assert_allclose(mine, record_lr(lambda o: bolts_factory(o, 60), 60).per_step, atol=1e-12)
    alias = lr_explorer(warmup_epochs=5, total_epochs=20, steps_per_epoch=SPE,
                        compare=lambda optimizer, num_epochs: bolts_factory(optimizer, num_epochs))
    alias.controls["total_epochs"].value = 60
    np.testing.assert_allclose(plotted(alias, "your schedule")[1], mine)


def test_a_compare_factory_with_parameters_the_explorer_cannot_fill_is_misuse() -> None:
    with pytest.raises(TypeError, match="compare takes a parameter 'epochs' the explorer cannot fill"):
        lr_explorer(steps_per_epoch=SPE, compare=lambda optimizer, epochs: bolts_factory(optimizer, epochs))
    explorer = lr_explorer(steps_per_epoch=SPE, compare=lambda optimizer, epochs=40: bolts_factory(optimizer, epochs))
    assert explorer.message == ""  # a defaulted parameter is simply left at its default


def test_a_factory_without_return_is_named() -> None:
    def make_warmup_scheduler(optimizer):
        bolts_factory(optimizer, 100)  # the return is missing

    explorer = lr_explorer(steps_per_epoch=SPE, compare=make_warmup_scheduler, compare_label="make_warmup_scheduler")
    assert explorer.message == "make_warmup_scheduler returned None instead of a scheduler: is its return line missing?"
    plotted(explorer, "reference")

    def factor(epoch):
        min((epoch + 1) / 5, 1.0)

    lam = lr_explorer(steps_per_epoch=SPE,
                      compare=lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, factor))
    assert lam.message == ("the LR factor function (factor) returned None instead of a number: "
                           "is its return line missing?")


def test_slider_ranges_fit_the_course_and_have_typed_boxes(explorer: LRExplorer) -> None:
    c = explorer.controls
    assert c["total_epochs"].max == 300 and c["warmup_epochs"].max == c["total_epochs"].value == 100
    c["total_epochs"].value = 40
    assert c["warmup_epochs"].max == 40  # the warmup stays within the run
    explorer.typed["warmup_epochs"].value = 12  # typed into the box beside the slider
    assert c["warmup_epochs"].value == 12
    assert explorer.figure is not None
    assert "warmup ends (epoch 12)" in [line.get_label() for line in explorer.figure.axes[0].lines]
    c["total_epochs"].value = 8  # shorter than the warmup: clamped to the run, and the reason is shown
    assert c["warmup_epochs"].value == 8 and explorer.typed["warmup_epochs"].value == 8
    assert "must end before training does" in explorer.message
    assert explorer.typed["total_epochs"].max == 300 and explorer.typed["epoch"].max == 7
    for name in ("warmup_epochs", "total_epochs", "epoch"):
        # a full-length track where there is room, a usable one where there is not; the box is the readout
        assert c[name].layout.max_width == "430px" and c[name].layout.min_width == "260px"
        assert c[name].readout is False


@pytest.mark.parametrize("mode", ["epoch", "step-mismatch", "step-correct"])
def test_the_legend_and_labels_stay_inside_the_figure(mode: str) -> None:
    factory = step_counted if mode == "step-correct" else epoch_counted
    explorer = lr_explorer(warmup_epochs=25, total_epochs=100, steps_per_epoch=SPE, compare=factory,
                           interval="epoch" if mode == "epoch" else "step", compare_label="make_warmup_scheduler")
    assert explorer.mismatch is (mode == "step-mismatch")
    assert explorer.figure is not None and explorer.narrow_figure is not None
    for fig in (explorer.figure, explorer.narrow_figure):
        _check_inside(fig)


def _drawn_texts(fig: Figure) -> list[Text]:
    """Titles, axis labels and the tick labels inside the view limits (matplotlib keeps others unseen)."""
    texts = []
    for ax in fig.axes:
        texts += [text for text in (ax.title, ax.xaxis.label, ax.yaxis.label) if text.get_text()]
        for ticks, (low, high), index in ((ax.get_xticklabels(), sorted(ax.get_xlim()), 0),
                                          (ax.get_yticklabels(), sorted(ax.get_ylim()), 1)):
            texts += [t for t in ticks if t.get_text() and low - 1e-9 <= t.get_position()[index] <= high + 1e-9]
    return texts


def _check_inside(fig: Figure) -> None:
    """Every text (tick labels included) inside the figure, the legend below every panel and label,
    stacked panels apart (the upper one's x label above the lower one's title)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    (legend,) = fig.legends
    assert len(legend.get_texts()) >= 4
    texts = [legend, *_drawn_texts(fig)]
    for artist in texts:
        extent = artist.get_window_extent(renderer)
        inside = (extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1
                  and extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1)
        assert inside, (artist, extent, box)
    legend_box = legend.get_window_extent(renderer)
    for ax in fig.axes:  # below the plots, not over the curves
        assert legend_box.y1 <= ax.get_window_extent(renderer).y0 + 1
        label = ax.xaxis.label.get_window_extent(renderer)  # nor over an axis label
        assert legend_box.y1 <= label.y0 + 1 or legend_box.x1 <= label.x0 or legend_box.x0 >= label.x1
    for upper, lower in itertools.pairwise(fig.axes):
        upper_label = upper.xaxis.label.get_window_extent(renderer)
        lower_title = lower.title.get_window_extent(renderer)
        apart = upper_label.y0 >= lower_title.y1 - 1 or upper_label.x1 <= lower_title.x0
        assert apart or upper_label.x0 >= lower_title.x1, "two panels' labels overlap"


def test_both_drawings_keep_their_text_readable_where_they_are_shown() -> None:
    """The page shows the wide drawing down to WIDE_PLOT_MIN_PX, the narrow one below (scaled down
    under 360 px): the smallest text, at those scales, stays at 9 px or more down to a 330 px area."""
    explorer = lr_explorer(warmup_epochs=25, total_epochs=100, steps_per_epoch=SPE, compare=epoch_counted,
                           interval="step")
    wide, narrow = explorer.images
    assert (wide.layout.name, narrow.layout.name) == ("wide", "narrow")
    assert wide.min_text_px * WIDE_PLOT_MIN_PX / wide.width >= 9
    assert narrow.width <= 360 and narrow.min_text_px * 330 / narrow.width >= 9
    assert narrow.height > wide.height  # the two panels stacked
    assert 'class="kit-plot-narrow"' in explorer.plot.value and f'data-min-text-px="{narrow.min_text_px}"' in (
        explorer.plot.value)


def test_the_plot_is_transparent_with_the_theme_foreground() -> None:
    """No white block on a dark page: the PNG's background is transparent; its text is the one
    foreground colour the stylesheet inverts in a dark theme."""
    explorer = lr_explorer(steps_per_epoch=SPE)
    for image in explorer.images:
        picture = Image.open(io.BytesIO(image.png)).convert("RGBA")
        corners = [picture.getpixel(xy) for xy in ((1, 1), (picture.width - 2, picture.height - 2))]
        assert all(isinstance(pixel, tuple) and pixel[3] == 0 for pixel in corners), corners
    assert explorer.figure is not None
    colours = {to_hex(t.get_color()) for t in explorer.figure.findobj(Text) if t.get_text().strip()}
    assert colours == {PLOT_FOREGROUND}
