"""Every widget of the kit displays as a widget view on ipywidgets 7.7.1 (Colab) and 8.x.

These run in the main environment (8.x) and again in the Colab-profile lane (``make colab``,
ipywidgets 7.7.1 layered over the venv), where :func:`test_lane_profile_is_what_it_claims`
makes sure the lane really runs 7.7.1. Displays go through IPython's own ``display``, as a
notebook cell's result does, and are captured rather than sent to a front end.
"""

from __future__ import annotations

import os

import ipywidgets as widgets
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from helpers.lr_explorer import lr_explorer
from helpers.quiz_widgets import quiz_widget
from helpers.widgets_compat import WIDGET_VIEW_MIME, ipywidgets_major, mimebundle

# Set by tools/colab_lane.py: the ipywidgets version its overlay installed.
LANE_IPYWIDGETS = os.environ.get("KIT_COLAB_LANE_IPYWIDGETS")


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    return InteractiveShell.instance()


def shown(shell: InteractiveShell, obj: object) -> list[dict]:
    """The display_data bundles that ``display(obj)`` publishes (errors in a repr propagate)."""
    assert shell.display_formatter is not None
    shell.display_formatter.mimebundle_formatter  # noqa: B018  (the shell's formatters exist)
    with capture_output() as captured:
        display(obj)
    assert captured.stderr == "", captured.stderr
    assert captured.stdout == "", captured.stdout
    return [dict(output.data) for output in captured.outputs]


def test_lane_profile_is_what_it_claims() -> None:
    if LANE_IPYWIDGETS is None:
        pytest.skip("main environment (the Colab-profile lane sets KIT_COLAB_LANE_IPYWIDGETS)")
    assert widgets.__version__ == LANE_IPYWIDGETS
    assert ipywidgets_major() == int(LANE_IPYWIDGETS.split(".")[0])


def test_mimebundle_of_a_plain_widget() -> None:
    box = widgets.VBox([widgets.Label("x")])
    bundle = mimebundle(box)
    assert bundle[WIDGET_VIEW_MIME] == {"version_major": 2, "version_minor": 0, "model_id": box.model_id}
    assert bundle["text/plain"].startswith("VBox(")
    assert mimebundle(box, text="a box")["text/plain"] == "a box"


def test_mimebundle_of_a_closed_widget_is_text_only() -> None:
    box = widgets.VBox([])
    box.close()
    assert set(mimebundle(box, text="closed")) == {"text/plain"}


def test_mimebundle_rejects_non_widgets() -> None:
    with pytest.raises(TypeError, match="needs an ipywidgets widget, got str"):
        mimebundle("not a widget")


def test_lr_explorer_displays_as_its_widget(shell: InteractiveShell) -> None:
    explorer = lr_explorer(steps_per_epoch=6)
    (bundle,) = shown(shell, explorer)
    assert bundle[WIDGET_VIEW_MIME]["model_id"] == explorer.widget.model_id
    assert bundle["text/plain"] == "LR schedule explorer (LR at epoch 10: 0.1)"


def test_lr_explorer_still_responds_after_display(shell: InteractiveShell) -> None:
    explorer = lr_explorer(steps_per_epoch=6)
    shown(shell, explorer)
    redraws = explorer.redraws
    explorer.controls["warmup_epochs"].value = 20
    assert explorer.redraws == redraws + 1
    assert explorer.readout.value == f"LR at epoch 10: {0.1 * 10 / 19:.6g}"  # pl_bolts: 0 .. base over epochs 0..19
    explorer.controls["total_epochs"].value = 20  # warmup 20 of 20 epochs: impossible
    assert explorer.figure is None and explorer.plot.value == ""
    assert "warmup" in explorer.message


def test_quiz_displays_as_one_widget_view_and_marks(shell: InteractiveShell) -> None:
    panel = quiz_widget()
    (bundle,) = shown(shell, panel)
    assert bundle[WIDGET_VIEW_MIME]["model_id"] == panel.model_id
    item = panel.item("q2")
    item.answer.index = item.question.letters.index("C")
    item.button.click()
    assert "✓ C is correct." in item.feedback.value
    number = next(i for i in panel.items if i.question.kind != "choice")
    assert isinstance(number.answer.value, float)
