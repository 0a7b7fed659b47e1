"""People using the web pages in a real browser: Playwright driving Debian's Chromium
(:mod:`tests.support.browser`), with axe-core checking every page they see.

Each page a person visits is checked by axe-core (shipped inside the `axe-playwright-python`
package, run in the page); a serious or critical violation fails the test, naming the rule and
the elements. A screenshot of every page goes to var/screenshots/, named by the test's label, the
page and the window's width, for people to look at; and no page may be wider than the window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, BrowserContext, Page

from tests.support.browser import SCREENSHOTS

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 860}
#: What fails a test; "moderate" and "minor" findings are left to people.
BLOCKING = ("serious", "critical")

_axe = Axe()


class AccessibilityViolation(AssertionError):
    """axe-core found a serious or critical problem on a page."""


def audit(page: Page) -> None:
    """Run axe-core on the page as it is now; raise for any serious or critical violation."""
    results = _axe.run(page)
    found = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    if found:
        lines = [f"{v['id']} ({v['impact']}): {v['help']} at "
                 + ", ".join(str(node["target"]) for node in v["nodes"][:5]) for v in found]
        raise AccessibilityViolation(f"{page.url}:\n" + "\n".join(lines))


def assert_fits(page: Page) -> None:
    """Nothing on the page reaches past the window's width (no sideways scrolling)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        widest = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
        raise AssertionError(f"{page.url} is {overflow} px wider than the window: {widest}")


@dataclass
class Person:
    """One person at one browser window: their own cookies, language, colour scheme and width."""

    base_url: str
    context: BrowserContext
    label: str
    #: axe-core runs in the page: a window with JavaScript off is not checked (the same pages are, elsewhere).
    javascript: bool = True
    page: Page = field(init=False)
    visited: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page = self.context.new_page()

    def goto(self, path: str, *, shot: str | None = None) -> Page:
        self.page.goto(self.base_url + path)
        self.seen(shot)
        return self.page

    def seen(self, shot: str | None = None) -> None:
        """The page now shown: checked by axe, and kept as a picture."""
        self.page.wait_for_load_state("load")
        if self.javascript:
            audit(self.page)
        assert_fits(self.page)
        self.visited.append(self.page.url)
        name = shot or re.sub(r"[^A-Za-z0-9]+", "_", self.page.url.removeprefix(self.base_url)).strip("_") or "home"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.label}-{name}-{width}.png"), full_page=True)

    def submit(self, button: str, *, shot: str | None = None) -> Page:
        """Press a button that loads a new page, and look at that page."""
        with self.page.expect_navigation():
            self.page.click(button)
        self.seen(shot)
        return self.page

    def register(self, nickname: str, email: str, password: str, *, locale: str = "en", about_me: str = "") -> None:
        self.goto("/auth/register")
        self.page.fill("#about_me", about_me)
        self.page.fill("#nickname", nickname)
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.fill("#password2", password)
        self.page.select_option("#locale", locale)
        self.submit("main button[type=submit]")
        assert "/auth/login" in self.page.url, self.page.url

    def log_in(self, nickname: str, password: str) -> None:
        if "/auth/login" not in self.page.url:
            self.goto("/auth/login")
        self.page.fill("#nickname", nickname)
        self.page.fill("#password", password)
        self.submit("main button[type=submit]")


def person(browser: Browser, base_url: str, label: str, *, viewport: dict[str, int] | None = None,
           locale: str = "en-US", color_scheme: str = "light", javascript: bool = True) -> Person:
    context = browser.new_context(viewport=viewport or DESKTOP, locale=locale,  # type: ignore[arg-type]
                                  color_scheme=color_scheme,  # type: ignore[arg-type]
                                  java_script_enabled=javascript, timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    return Person(base_url, context, label, javascript)
