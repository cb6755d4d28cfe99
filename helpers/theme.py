"""The one home of the kit's colours and CSS: text tones, the widgets' reflowing layouts, plot styling.

Why CSS and not fixed colours: the kernel cannot know whether the learner's front end is light or
dark (JupyterLab Light/Dark, Colab's dark mode, VS Code), and no single text colour reaches the 4.5:1
contrast WCAG AA asks for body text on both white and #111 (the best one gets about 4.3:1). So the
widgets carry class names and one stylesheet decides in the browser:

- **Text tones** (correct, wrong, warning, error, muted) mix JupyterLab's own status colour
  (``--jp-success-color1``, ``--jp-error-color1``, ``--jp-warn-color1``, ``--jp-ui-font-color2``) half
  and half with ``currentColor``, the theme's text colour, which is by construction readable on the
  theme's background: in a light theme the tone darkens, in a dark theme it lightens. Where the
  JupyterLab variables do not exist (Colab, ipywidgets 7.7.1) a fallback hue is mixed the same way,
  a lighter one under a known dark host (``html[theme=dark]`` in Colab, ``body.vscode-dark``). A
  browser without ``color-mix`` shows the text colour itself. ✓ and ✗ carry the meaning; colour only
  repeats it.
- **Plots** are PNGs with a transparent background and a near-black foreground. A known light theme
  shows them as they are; a known dark theme inverts their lightness (``invert(1) hue-rotate(180deg)``
  keeps the hues), so the text turns light on the dark page; an unknown host gets a white card, so
  the plot is readable whatever the page behind it.
- **Layouts** wrap: the explorer's rows are ``flex-wrap`` boxes whose controls have a basis and a
  minimum width, readouts wrap instead of being cut, and the explorer sends its plot drawn at two
  widths, the narrow one shown by a container query when its area is too narrow for the wide one
  to keep its text readable.

The stylesheet travels inside an ``ipywidgets.HTML`` (as a ``<style>`` element), which both
ipywidgets 7.7.1 and 8 render by ``innerHTML``; every rule is scoped to the kit's own classes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, cast

import matplotlib

TONES = ("success", "error", "warn", "muted")
# Share of the status colour in the mix with the text colour (the rest is currentColor). 55 % keeps the
# hue recognisable and gives, measured in JupyterLab 4.5: 5.9:1 or more on white, 8.9:1 or more on #111.
TONE_SHARE = 55
# Hues used where JupyterLab's variables are missing, for a light and for a known dark host.
FALLBACK_LIGHT = {"success": "#1a7f37", "error": "#cf222e", "warn": "#9a6700"}
FALLBACK_DARK = {"success": "#4caf50", "error": "#f44336", "warn": "#ff9800"}
_JP_VARIABLES = {
    "success": "--jp-success-color1",
    "error": "--jp-error-color1",
    "warn": "--jp-warn-color1",
    "muted": "--jp-ui-font-color2",
}
# Hosts whose theme the stylesheet can tell from the page (JupyterLab / Notebook 7, Colab, VS Code).
DARK_HOSTS = (
    'body[data-jp-theme-light="false"]',
    "html[theme=dark]",
    "body.vscode-dark",
    "body.vscode-high-contrast:not(.vscode-high-contrast-light)",
)
LIGHT_HOSTS = ('body[data-jp-theme-light="true"]', "html[theme=light]", "body.vscode-light",
               "body.vscode-high-contrast-light")
PLOT_FOREGROUND = "#1a1a1a"  # text, axes and markers: 17:1 on white, about 13:1 once inverted on #111
# The explorer shows its wide plot only where the wide drawing keeps its smallest text at 9 px or more.
WIDE_PLOT_MIN_PX = 700


def tone_class(tone: str) -> str:
    """The CSS class giving text the colour of ``tone`` (one of :data:`TONES`)."""
    if tone not in TONES:
        raise ValueError(f"tone must be one of {TONES}, got {tone!r}")
    return f"kit-tone-{tone}"


def _tone_rules() -> str:
    rules = []
    for tone in TONES:
        variable = _JP_VARIABLES[tone]
        if tone == "muted":
            mixed = f"var({variable}, currentColor)"
        else:
            mixed = f"var({variable}, var(--kit-{tone}, {FALLBACK_LIGHT[tone]}))"
        rules.append(
            f".{tone_class(tone)} {{ color: inherit; "
            f"color: color-mix(in srgb, {mixed} {TONE_SHARE}%, currentColor); }}"
        )
    dark = ", ".join(DARK_HOSTS)
    fallbacks = " ".join(f"--kit-{tone}: {colour};" for tone, colour in FALLBACK_DARK.items())
    rules.append(f"{dark} {{ {fallbacks} }}")
    return "\n".join(rules)


def _plot_rules() -> str:
    images = ".kit-plot img"
    light = ", ".join(f"{host} {images}" for host in LIGHT_HOSTS)
    dark = ", ".join(f"{host} {images}" for host in DARK_HOSTS)
    return f"""
{images} {{ display: block; max-width: 100%; height: auto; background: #fff; border-radius: 2px; }}
{light} {{ background: transparent; }}
{dark} {{ background: transparent; filter: invert(1) hue-rotate(180deg); }}
.kit-plot {{ container-type: inline-size; width: 100%; }}
.kit-plot .kit-plot-narrow {{ display: none; }}
@container (max-width: {WIDE_PLOT_MIN_PX - 1}px) {{
  .kit-plot .kit-plot-wide {{ display: none; }}
  .kit-plot .kit-plot-narrow {{ display: block; }}
}}"""


# Core RadioButtons give every option a fixed one-line height, so a long option that wraps runs over
# the next one and hides its radio button: each option grows to its text, its button beside the first
# line (the same DOM classes in ipywidgets 7.7.1 and 8.x).
_QUIZ_RULES = """
.kit-quiz .kit-quiz-options, .kit-quiz .kit-quiz-options .widget-radio-box { width: 100%; max-width: 100%; }
.kit-quiz .kit-quiz-options .widget-radio-box label {
  display: flex; align-items: flex-start; gap: 6px; box-sizing: border-box;
  height: auto; min-height: var(--jp-widgets-radio-item-height, 24px); margin: 0 0 4px 0; padding: 2px 0;
  line-height: 1.4; white-space: normal; overflow-wrap: anywhere; overflow: visible;
}
.kit-quiz .kit-quiz-options .widget-radio-box input {
  float: none; flex: 0 0 auto; order: -1; height: 1.4em; margin: 0 4px 0 1px;
}
.kit-quiz .widget-html-content { line-height: 1.4; }
"""

# Rows wrap; labels and readouts wrap instead of being cut with an ellipsis; the plot's HTML takes
# the whole width (it is the container the plot's query measures).
_EXPLORER_RULES = """
.lr-explorer { max-width: 100%; }
.lr-explorer .lr-explorer-row { flex-wrap: wrap; max-width: 100%; }
.lr-explorer .lr-explorer-wrap, .lr-explorer .lr-explorer-wrap .widget-html-content {
  white-space: normal; overflow-wrap: anywhere; height: auto; line-height: 1.4; overflow: visible;
}
.lr-explorer .widget-html-content { white-space: normal; }
.lr-explorer .lr-explorer-plot-box, .lr-explorer .lr-explorer-plot-box .widget-html-content { width: 100%; }
"""


def stylesheet() -> str:
    """Every rule of the kit's widgets, as one ``<style>`` element.

    The quiz's rules come first: the quiz's ``text/plain`` shows the first ~110 characters of this
    sheet, and the executed notebooks nbval compares keep that text."""
    return f"<style>\n{_QUIZ_RULES.lstrip()}{_tone_rules()}\n{_plot_rules()}\n{_EXPLORER_RULES}</style>"


PLOT_RC = {
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.transparent": True,
    "text.color": PLOT_FOREGROUND,
    "axes.labelcolor": PLOT_FOREGROUND,
    "axes.edgecolor": PLOT_FOREGROUND,
    "xtick.color": PLOT_FOREGROUND,
    "ytick.color": PLOT_FOREGROUND,
    "grid.color": PLOT_FOREGROUND,
    "legend.frameon": False,
}


def plot_style() -> AbstractContextManager[None]:
    """matplotlib settings for a plot the stylesheet themes (see :data:`PLOT_RC`); artists take their
    colours when created, so create the figure and draw it inside."""
    return matplotlib.rc_context(cast(Any, PLOT_RC))  # rcParams' typed keys: a plain dict does not match
