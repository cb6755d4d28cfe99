"""The LR explorer's plot as the page shows it: drawn at two widths, rendered to PNGs, put in HTML.

Why two drawings: the kernel cannot see how wide the learner's output area is, and a bitmap scaled
down to fit shrinks its text with it (an 844 px plot in a 370 px area has 4-5 px text). So the
explorer draws the plot once wide (panels side by side, the legend in three columns) and once narrow
(360 px, panels stacked, the legend in one column); the page shows the wide one where it keeps its
smallest text at 9 px or more and the narrow one below that (a container query in
:mod:`helpers.theme`). Each image carries the smallest font it was drawn with (``data-min-text-px``)
so a browser test can check the text as rendered.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers.theme import plot_style

PLOT_DPI = 96  # one figure pixel per CSS pixel
MIN_FONT_PT = 9  # legend and the zoom panel's labels; 12 px at 96 dpi
TITLE_FONT_PT = 10
LEGEND_ROW_PX = 20  # one legend row at MIN_FONT_PT with matplotlib's label spacing


@dataclass(frozen=True)
class PlotLayout:
    """One drawing of the explorer's plot: its size, panel arrangement and margins (in pixels)."""

    name: str  # the image's CSS class is kit-plot-<name>
    width_in: float
    height_in: float
    two_panel_height_in: float  # with the "epoch 0, batch by batch" panel
    stacked: bool  # the second panel below the first instead of beside it; the title on two lines
    legend_columns: int
    margins_px: tuple[int, int, int, int]  # left, right, top, bottom (the bottom holds the legend)
    gap: float  # between the two panels, as matplotlib's wspace/hspace

    def size(self, two_panels: bool) -> tuple[float, float]:
        return self.width_in, self.two_panel_height_in if two_panels else self.height_in

    def panels(self) -> tuple[int, int]:
        return (2, 1) if self.stacked else (1, 2)

    def ratios(self) -> dict[str, Any]:
        return {"gridspec_kw": {"height_ratios" if self.stacked else "width_ratios": [1.4 if self.stacked else 2.2, 1]}}

    def arrange(self, fig: Figure) -> None:
        width, height = fig.get_size_inches() * fig.dpi
        left, right, top, bottom = self.margins_px
        fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                            bottom=bottom / height, wspace=self.gap, hspace=self.gap)


WIDE = PlotLayout("wide", 8.8, 3.9, 3.9, stacked=False, legend_columns=3, margins_px=(72, 25, 34, 120), gap=0.22)
# 360 px: the narrowest output area the course supports; up to five legend entries, one per row.
NARROW = PlotLayout("narrow", 3.75, 4.1, 5.8, stacked=True, legend_columns=1,
                    margins_px=(62, 12, 44, 52 + 5 * LEGEND_ROW_PX), gap=0.5)
LAYOUTS = (WIDE, NARROW)


def new_figure(layout: PlotLayout, two_panels: bool) -> Figure:
    """An empty figure in the plot style (transparent, near-black foreground; see helpers.theme)."""
    with plot_style():
        return Figure(figsize=layout.size(two_panels), dpi=PLOT_DPI)


@dataclass(frozen=True)
class PlotImage:
    """One rendered drawing: its PNG, its size in pixels and the smallest text on it."""

    layout: PlotLayout
    png: bytes
    width: int
    height: int
    min_text_px: float


def smallest_text_px(fig: Figure) -> float:
    """The font size, in pixels, of the smallest visible text drawn on ``fig`` (after drawing)."""
    sizes = [float(text.get_fontsize()) for text in fig.findobj(Text) if text.get_visible() and text.get_text().strip()]
    return min(sizes) * fig.dpi / 72 if sizes else float("nan")


def render_png(fig: Figure, layout: PlotLayout) -> PlotImage:
    with plot_style():
        buffer = io.BytesIO()
        canvas = FigureCanvasAgg(fig)
        canvas.print_png(buffer, metadata={"Software": None})
    width, height = canvas.get_width_height()
    return PlotImage(layout, buffer.getvalue(), width, height, round(smallest_text_px(fig), 2))


def plot_html(images: tuple[PlotImage, ...], alt: str) -> str:
    """The drawings as one HTML block: the page shows the one that fits (see helpers.theme)."""
    tags = [
        f'<img class="kit-plot-{image.layout.name}" width="{image.width}" height="{image.height}" '
        f'data-min-text-px="{image.min_text_px}" alt="{html.escape(alt)}" '
        f'src="data:image/png;base64,{base64.b64encode(image.png).decode("ascii")}">'
        for image in images
    ]
    return f'<div class="kit-plot">{"".join(tags)}</div>'
