"""The views the browser tests repeat their checks in, and the measurements that make a view readable.

A view is JupyterLab's light or dark theme at a 1400 px window (sidebar closed) or at an 800 px window
with the file browser open (the notebook's output area is then about 370 px wide). The theme and the
sidebar are switched by JupyterLab's own commands in the open page and the viewport is resized in
place, so one kernel serves every view.

Measured in the page, for one widget root (an LR explorer or a quiz):

- clipping: every visible element's box lies inside the root's box horizontally, and no element that
  hides or scrolls its overflow has more content than room (``scrollWidth <= clientWidth``);
- contrast: every element with text of its own (and every input and select) gets the WCAG contrast
  ratio of its computed text colour (opacity included) against the background actually behind it
  (every ancestor's background colour painted in order on a 1x1 canvas), disabled controls reported
  apart (WCAG exempts inactive controls);
- plots: each visible plot image's rendered scale times the smallest font the kernel drew it with
  (``data-min-text-px``), and from an element screenshot the contrast between the plot's commonest
  colour (its background as shown) and its strongest foreground pixel.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from browser.lab import ARTIFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

HEIGHT = 1400  # tall enough that a whole explorer fits on screen for its screenshot
MIN_CONTRAST = 4.5  # WCAG 2.x AA, body text
MIN_TEXT_PX = 9.0
THEME_NAMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


@dataclass(frozen=True)
class View:
    theme: str
    width: int
    file_browser: bool

    @property
    def name(self) -> str:
        return f"{self.theme}_{self.width}"


VIEWS = (
    View("light", 1400, False),
    View("dark", 1400, False),
    View("light", 800, True),
    View("dark", 800, True),
)


def show_view(page: Page, view: View) -> None:
    """Resize the window, switch the theme and the file browser by JupyterLab's commands, let it settle."""
    page.set_viewport_size({"width": view.width, "height": HEIGHT})
    theme = THEME_NAMES[view.theme]
    page.evaluate(
        """async ([theme, browser]) => {
          const app = window.jupyterapp;
          if (document.body.dataset.jpThemeName !== theme) {
            await app.commands.execute('apputils:change-theme', {theme});
          }
          if (browser) { app.shell.activateById('filebrowser'); } else { app.shell.collapseLeft(); }
        }""",
        [theme, view.file_browser],
    )
    page.wait_for_function("theme => document.body.dataset.jpThemeName === theme", arg=theme)
    page.wait_for_timeout(700)  # the theme's stylesheet applies and the widgets re-lay out


# Text colours: each ancestor's background painted in order (from white, the canvas under the page),
# then the text colour with the elements' opacity on top; the contrast of the two resulting pixels.
_CONTRAST = """
root => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const paint = layers => {
    ctx.globalAlpha = 1; ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 1, 1);
    for (const [colour, alpha] of layers) {
      ctx.globalAlpha = alpha; ctx.fillStyle = '#000'; ctx.fillStyle = colour; ctx.fillRect(0, 0, 1, 1);
    }
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
  };
  const lum = rgb => rgb.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const hex = rgb => '#' + rgb.map(v => v.toString(16).padStart(2, '0')).join('');
  const ownText = el => Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  const results = [];
  for (const el of root.querySelectorAll('*')) {
    const isField = el.matches('input[type=text], input[type=number], input:not([type]), select, textarea');
    if (!(isField || ownText(el))) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    const chain = [];
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) { chain.unshift(e); opacity *= parseFloat(getComputedStyle(e).opacity); }
    const background = paint(chain.map(e => [getComputedStyle(e).backgroundColor, 1]));
    const text = paint([...chain.map(e => [getComputedStyle(e).backgroundColor, 1]), [style.color, opacity]]);
    const disabled = !!el.closest('.mod-disabled, :disabled') || (isField && el.disabled);
    results.push({text: (isField ? (el.value || el.tagName) : el.innerText).trim().slice(0, 50),
                  classes: (el.className || '').toString().slice(0, 60), color: style.color,
                  shown: hex(text), background: hex(background),
                  ratio: Math.round(ratio(text, background) * 100) / 100, disabled});
  }
  return results;
}
"""

# Clipping: boxes inside the root horizontally; no hidden or scrolled overflow inside any element.
_CLIPPING = """
(root, allowScroll) => {
  const outer = root.getBoundingClientRect();
  const problems = [];
  const name = el => ((el.innerText || '').trim().slice(0, 30) || el.className.toString().slice(0, 40));
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScroller = el => {  // el scrolls, or sits inside a scroller within root (root included)
    for (let e = el; e; e = e.parentElement) { if (scrolls(e)) return true; if (e === root) break; }
    return false;
  };
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || el.closest('option')) continue;
    if (allowScroll && inScroller(el)) continue;  // reachable with the scroller's own scrollbar
    if (box.left < outer.left - 1 || box.right > outer.right + 1) {
      problems.push(`${name(el)}: box ${Math.round(box.left)}..${Math.round(box.right)} outside ` +
                    `${Math.round(outer.left)}..${Math.round(outer.right)}`);
    }
    const hides = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
    if (hides && el.scrollWidth > el.clientWidth + 1 && !el.matches('input, select, textarea')) {
      problems.push(`${name(el)}: content ${el.scrollWidth} px in ${el.clientWidth} px`);
    }
    if (el.matches('input, select') && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)}: value ${el.scrollWidth} px in a ${el.clientWidth} px field`);
    }
  }
  return problems;
}
"""

# Plots: every visible image's rendered size, natural size and the smallest font it was drawn with.
_PLOTS = """
root => Array.from(root.querySelectorAll('img'))
  .filter(img => img.getBoundingClientRect().width > 0 && getComputedStyle(img).display !== 'none')
  .map(img => ({box: img.getBoundingClientRect().toJSON(), natural: [img.naturalWidth, img.naturalHeight],
                minTextPx: parseFloat(img.dataset.minTextPx || 'NaN'), filter: getComputedStyle(img).filter}))
"""


def contrasts(root: Locator) -> list[dict]:
    return root.evaluate(_CONTRAST)


def clipping(root: Locator, *, allow_scroll: bool = False) -> list[str]:
    """What is cut off or sticks out of ``root``; with ``allow_scroll``, content inside a scroller
    (``overflow-x: auto/scroll``, as JupyterLab puts around a wide table) counts as reachable."""
    return root.evaluate(_CLIPPING, allow_scroll)


def plots(root: Locator) -> list[dict]:
    return root.evaluate(_PLOTS)


def luminance(rgb: tuple[int, int, int]) -> float:
    def linear(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class PlotColours:
    background: tuple[int, int, int]  # the commonest pixel: the plot's background as shown
    page: tuple[int, int, int]  # the page's background behind the plot
    foreground_contrast: float  # the strongest pixel against the background (text, axes)


def plot_colours(image: Locator, page_background: tuple[int, int, int]) -> PlotColours:
    """The plot as the screen shows it (CSS filter and page background included), from a screenshot."""
    from PIL import Image

    picture = Image.open(io.BytesIO(image.screenshot())).convert("RGB")
    found = picture.getcolors(maxcolors=picture.width * picture.height) or []
    counts = [(count, _rgb(pixel)) for count, pixel in found]
    background = max(counts)[1]
    strongest = max(contrast(pixel, background) for _, pixel in counts)
    return PlotColours(background, page_background, round(strongest, 2))


def _rgb(pixel: object) -> tuple[int, int, int]:
    assert isinstance(pixel, tuple) and len(pixel) == 3, pixel
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def page_background(root: Locator) -> tuple[int, int, int]:
    """The colour behind ``root`` (its ancestors' backgrounds painted in order over white)."""
    rgb = root.evaluate(
        """root => {
          const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
          const ctx = canvas.getContext('2d', {willReadFrequently: true});
          ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 1, 1);
          const chain = []; for (let e = root; e; e = e.parentElement) chain.unshift(e);
          for (const e of chain) { ctx.fillStyle = '#000'; ctx.fillStyle = getComputedStyle(e).backgroundColor;
                                   ctx.fillRect(0, 0, 1, 1); }
          return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
        }"""
    )
    return (rgb[0], rgb[1], rgb[2])


def screenshot(element: Locator, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    element.screenshot(path=str(path))
    return path
