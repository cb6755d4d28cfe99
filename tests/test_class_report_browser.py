"""The class report opened from disk in headless Chromium: it renders with no network request,
nothing overflows the page at a laptop width or a phone width, the charts have drawn bars, and it
prints (PDF) with its bars kept. Screenshots and the PDF go to ``artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browser.lab import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, skip_without_chromium
from class_report_fixtures import SETTINGS, class_info, class_rows

from kit.grade import class_report

pytestmark = pytest.mark.browser
skip_without_chromium()


@contextmanager
def file_page(tmp_path: Path, width: int, height: int) -> Iterator[Any]:
    """A headless Chromium page for a file on disk; every request that is not file:// is refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            yield page
        finally:
            browser.close()


@pytest.mark.parametrize("width", [1280, 420])
def test_renders_from_disk(tmp_path: Path, width: int) -> None:
    path = class_report.write(tmp_path, class_rows(), SETTINGS, class_info())
    with file_page(tmp_path, width, 900) as page:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert requests == [path.as_uri()]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"page wider than the window by {overflow}px"
        heights = page.eval_on_selector_all(".hist div", "els => els.map(e => e.getBoundingClientRect().height)")
        assert len(heights) == 2 * class_report.BINS and max(heights) > 50
        widths = page.eval_on_selector_all(".bar > span", "els => els.map(e => e.getBoundingClientRect().width)")
        assert widths and max(widths) > 20
        assert page.locator("h2", has_text="Most frequent mistakes").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"class_report_{width}.png"), full_page=True)
        if width > 1000:
            page.emulate_media(media="print")
            pdf = page.pdf(path=str(ARTIFACTS / "class_report.pdf"), print_background=False)
            assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
