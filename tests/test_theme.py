"""The kit's stylesheet: every rule scoped to the kit's own classes, every tone themed, the fallbacks sound.

The colours as a browser shows them are measured in the browser tests (tests/test_browser_*.py); these
tests check what can be read from the stylesheet itself.
"""

from __future__ import annotations

import re

import pytest

from helpers.theme import (
    DARK_HOSTS,
    FALLBACK_DARK,
    FALLBACK_LIGHT,
    LIGHT_HOSTS,
    TONE_SHARE,
    TONES,
    stylesheet,
    tone_class,
)

KIT_CLASSES = (".kit-", ".lr-explorer")


def _rules(css: str) -> list[tuple[str, str]]:
    """(selector list, declarations) of every rule, at-rules' insides included."""
    body = css.removeprefix("<style>").removesuffix("</style>")
    body = re.sub(r"@container[^{]*\{((?:[^{}]*\{[^}]*\})*)\s*\}", r"\1", body)
    found = re.findall(r"([^{}]+)\{([^}]*)\}", body)
    return [(selectors.strip(), declarations.strip()) for selectors, declarations in found]


def _luminance(colour: str) -> float:
    values = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _mix(colour: str, text: str, share: float) -> str:
    """color-mix(in srgb, colour share, text) for opaque colours."""
    channels = [round(share * int(colour[i : i + 2], 16) + (1 - share) * int(text[i : i + 2], 16)) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def test_every_rule_is_scoped_to_the_kit() -> None:
    """A learner's own HTML and JupyterLab's UI are never restyled: each selector names a kit class,
    except the dark hosts' rule, which only defines the kit's own custom properties."""
    rules = _rules(stylesheet())
    assert len(rules) >= 15
    for selectors, declarations in rules:
        for selector in selectors.split(","):
            if any(kit in selector for kit in KIT_CLASSES):
                continue
            assert selector.strip() in DARK_HOSTS, selector
            properties = [d.split(":")[0].strip() for d in declarations.split(";") if d.strip()]
            assert properties and all(p.startswith("--kit-") for p in properties), declarations


def test_every_tone_mixes_the_themes_colour_with_the_text_colour() -> None:
    css = stylesheet()
    for tone in TONES:
        (declarations,) = [d for s, d in _rules(css) if s == f".{tone_class(tone)}"]
        # a browser without color-mix keeps the text colour (readable), one with it shows the tone
        assert declarations.startswith("color: inherit;")
        assert f"{TONE_SHARE}%, currentColor)" in declarations
        assert "var(--jp-" in declarations


def test_plots_are_inverted_only_under_a_known_dark_theme() -> None:
    rules = dict(_rules(stylesheet()))
    dark = ", ".join(f"{host} .kit-plot img" for host in DARK_HOSTS)
    light = ", ".join(f"{host} .kit-plot img" for host in LIGHT_HOSTS)
    assert "invert(1)" in rules[dark] and "transparent" in rules[dark]
    assert "transparent" in rules[light] and "filter" not in rules[light]
    assert "background: #fff" in rules[".kit-plot img"]  # an unknown host: a white card, readable on any page


@pytest.mark.parametrize("tone", [t for t in TONES if t != "muted"])
def test_fallback_tones_reach_aa_where_no_jupyterlab_variable_exists(tone: str) -> None:
    """Colab-like hosts: the light hue mixed with black text on white, the dark hue mixed with light
    text on dark greys as dark as #111 and as light as #383838."""
    light = _mix(FALLBACK_LIGHT[tone], "#000000", TONE_SHARE / 100)
    assert _contrast(light, "#ffffff") >= 4.5
    for text, background in (("#e3e3e3", "#383838"), ("#ffffff", "#111111"), ("#d5d5d5", "#1e1e1e")):
        dark = _mix(FALLBACK_DARK[tone], text, TONE_SHARE / 100)
        assert _contrast(dark, background) >= 4.5, (text, background, dark)


def test_unknown_tone_is_an_error() -> None:
    with pytest.raises(ValueError, match="tone must be one of"):
        tone_class("green")
