"""Every kind of mail, in both languages, as a reader's client shows it: rendered in headless
Chromium at 600 and 320 pixels wide (and without any CSS, as some clients show mail), with no
part wider than the window. The pictures land in var/screenshots/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from notifier.render import Renderer
from playwright.sync_api import Browser, Page, Route
from social.avatars import identicon_png

from tests.support.browser import SCREENSHOTS, chromium
from tests.support.mail_samples import KINDS, sample

RENDERER = Renderer(KINDS, postal_address="Microblog · 1 Example Street · Springfield")
LANGUAGES = ("en", "zh-CN")
_AVATAR = re.compile(r"/avatar/(\d+)\.png")
_STYLE = re.compile(r"<style.*?</style>|\sstyle=\"[^\"]*\"", re.DOTALL)
#: Elements whose right edge passes the window's (the hidden preheader aside).
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => !e.closest('.preheader') && e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': '
             + (e.textContent || '').slice(0, 40))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def serve(route: Route) -> None:
    """Avatars are the social service's identicons; nothing else is fetched (no trackers, and no network)."""
    found = _AVATAR.search(route.request.url)
    if found:
        route.fulfill(status=200, content_type="image/png", body=identicon_png(int(found[1]), 96))
    else:
        route.abort()


def show(browser: Browser, html: str, width: int, *, dark: bool = False) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
    page.route("**/*", serve)
    page.set_content(html, wait_until="load")
    return page


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_fits_600_and_320_pixels_in_both_languages(browser: Browser, kind: str, language: str) -> None:
    html = RENDERER.render(sample(kind, language)).html
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (600, 320):
        page = show(browser, html, width)
        try:
            page.screenshot(path=SCREENSHOTS / f"mail-{kind}-{language}-{width}.png", full_page=True)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width, f"{kind} scrolls at {width}"
            assert page.evaluate(WIDE) == [], f"{kind} in {language} overflows at {width} px"
            images = page.evaluate("() => [...document.images].map(i => [i.src, i.naturalWidth])")
            assert all(natural > 0 for _, natural in images), f"an image did not load: {images}"
        finally:
            page.close()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_reads_without_css_and_in_dark_mode(browser: Browser, kind: str) -> None:
    mail = RENDERER.render(sample(kind, "en"))
    bare = show(browser, _STYLE.sub("", mail.html), 320)
    try:
        assert bare.evaluate(WIDE) == [], f"{kind} without CSS overflows at 320 px"
        text = bare.evaluate("() => document.body.innerText")
        assert "Microblog" in text and len(text) > 80
    finally:
        bare.close()
    dark = show(browser, mail.html, 600, dark=True)
    try:
        dark.screenshot(path=SCREENSHOTS / f"mail-{kind}-en-600-dark.png", full_page=True)
        background = dark.evaluate("() => getComputedStyle(document.querySelector('.card')).backgroundColor")
        assert background == "rgb(22, 27, 34)", "the dark scheme's card"
    finally:
        dark.close()
