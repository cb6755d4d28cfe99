"""Headless tests of the LR explorer: drive the controls, read what was plotted and shown."""

from __future__ import annotations

import base64

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import helpers  # noqa: F401  (installs the kit's warning filters before pl_bolts is imported)
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

from helpers.lr_explorer import LRExplorer, lr_explorer
from helpers.schedule_families import FAMILIES, ScheduleConfig, recorded_curve
from helpers.schedules import LRCurve, record_lr

SPE = 6  # a small steps-per-epoch keeps per-step recordings fast


def plotted(explorer: LRExplorer, label_prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y data of the line whose legend label starts with ``label_prefix``."""
    assert explorer.figure is not None, f"nothing plotted; message: {explorer.message!r}"
    lines = [line for line in explorer.figure.axes[0].lines if line.get_label().startswith(label_prefix)]
    assert len(lines) == 1, [line.get_label() for line in explorer.figure.axes[0].lines]
    return np.asarray(lines[0].get_xdata(), dtype=float), np.asarray(lines[0].get_ydata(), dtype=float)


def png_bytes(explorer: LRExplorer) -> bytes:
    (output,) = explorer.output.outputs
    return base64.b64decode(output["data"]["image/png"])


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
        lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=7, max_epochs=40, warmup_start_lr=0.001, eta_min=0.0005),
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
    assert not [line for line in explorer.figure.axes[0].lines if line.get_label().startswith("warmup ends")]


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_every_family_plots_its_recorded_scheduler(explorer: LRExplorer, family: str, interval: str) -> None:
    redraws = explorer.redraws
    explorer.set(
        total_epochs=20, warmup_epochs=4, warmup_start_lr=0.002, step_size=5, gamma=0.3, family=family, interval=interval
    )
    assert explorer.redraws == redraws + 1
    assert explorer.message == ""
    _, y = plotted(explorer, "reference")
    expected = recorded_curve(explorer.config())
    np.testing.assert_allclose(y, expected.per_step, rtol=0, atol=1e-12)


def test_marks_warmup_end_and_peak(explorer: LRExplorer) -> None:
    explorer.controls["warmup_epochs"].value = 8
    x, y = plotted(explorer, "warmup ends (epoch 8)")
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
    assert explorer.output.outputs == ()  # no stale curve left on screen
    assert explorer.last_curve is None and explorer.figure is None
    assert "no schedule" in explorer.readout_text


def test_fixing_the_setting_brings_the_plot_back(explorer: LRExplorer) -> None:
    c = explorer.controls
    c["total_epochs"].value = 10  # warmup 10 >= total 10
    assert "must end before training does" in explorer.message
    c["warmup_epochs"].value = 3
    assert explorer.message == "" and explorer.message_box.value == ""
    assert len(explorer.output.outputs) == 1
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
        assert len(explorer.output.outputs) == 1
        images.add(png_bytes(explorer))
    c["interval"].value = "step"
    c["family"].value = "step"
    assert len(explorer.output.outputs) == 1
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
    assert explorer.readout_text == f"LR at epoch 5: {explorer.last_curve.per_step[5]:.6g} · mine: {expected.per_step[5]:.6g}"
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
    with pytest.raises(ValueError, match="interval must be 'epoch' or 'step'"):
        lr_explorer(interval="batch", steps_per_epoch=SPE)
    with pytest.raises(TypeError, match="compare must be a scheduler factory .* got int"):
        lr_explorer(compare=3, steps_per_epoch=SPE)
    with pytest.raises(ValueError, match="steps_per_epoch must be a whole number of at least 1"):
        lr_explorer(steps_per_epoch=0)
    with pytest.raises(TypeError, match="warmup_epochs must be a whole number"):
        lr_explorer(warmup_epochs=2.5, steps_per_epoch=SPE)
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
