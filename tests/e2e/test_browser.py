"""The web front end as people use it, in headless Chromium at 1280 and 375 px, against the whole
system (web, relay, notifier, a real broker, an SMTP server): sign up, confirm the address from
the mail, find someone, follow by the button, get the mail, post, read a follower's timeline,
choose what mail comes, unsubscribe from a mail's link, log out everywhere. axe-core checks every
page seen (:mod:`tests.support.web`); screenshots land in var/screenshots/.

One system serves the whole module (starting one costs seconds); each test brings its own people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, expect
from requests.auth import HTTPBasicAuth

from tests.support.browser import chromium
from tests.support.services import rabbit_vhost
from tests.support.smtp import SmtpServer
from tests.support.system import System, link_in, running_system
from tests.support.web import DESKTOP, PHONE, Person, person

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"
FOLLOW = "is now following you"


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[SmtpServer]:
    """The SMTP server the whole module's mail goes to."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, mail_sink: SmtpServer) -> Iterator[System]:
    workdir = tmp_path_factory.mktemp("browser-system")
    with rabbit_vhost() as amqp_url, running_system(
            database_url=f"sqlite:///{workdir / 'social.db'}", amqp_url=amqp_url, smtp=mail_sink,
            workdir=workdir) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


#: Who else is on the site when the README's pictures are taken: nickname, address, about me, a post.
NEIGHBOURS = [
    ("mira", "mira@example.com", "Urban sketcher. Trains, tea and typography.",
     "Sketched the old station this morning. The light at 7 am is unbeatable."),
    ("tomás", "tomas@example.com", "Backend developer in Lisbon.",
     "Keyset pagination: pages that stay put while people keep posting. Underrated."),
    ("李雷", "lilei@example.com", "写代码，也写诗。", "今天的晚霞特别好看。"),
]


@pytest.fixture(scope="module")
def neighbours(system: System) -> list[str]:
    """A few people who have posted, signed up and posting through the API."""
    for nickname, address, about_me, post in NEIGHBOURS:
        signed = requests.post(f"{system.base_url}/api/users", timeout=10, json={
            "nickname": nickname, "email": address, "password": PASSWORD, "about_me": about_me})
        assert signed.status_code == 202, signed.text
        token = requests.post(f"{system.base_url}/api/tokens", auth=HTTPBasicAuth(nickname.encode(), PASSWORD.encode()),
                              timeout=10).json()["token"]
        posted = requests.post(f"{system.base_url}/api/posts", json={"body": post}, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert posted.status_code == 201, posted.text
    return [nickname for nickname, *_ in NEIGHBOURS]


def follow_by_api(system: System, nickname: str, others: list[str]) -> None:
    token = requests.post(f"{system.base_url}/api/tokens", auth=(nickname, PASSWORD), timeout=10).json()["token"]
    for other in others:
        followed = requests.put(f"{system.base_url}/api/users/me/following/{other}", timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
        assert followed.status_code == 204, followed.text


def confirmed_person(system: System, mail_sink: SmtpServer, browser: Browser, nickname: str, *, label: str,
                     about_me: str = "", **kwargs: object) -> Person:
    """Signed up through the page, logged in, and the address confirmed with the mailed link."""
    someone = person(browser, system.base_url, label, **kwargs)  # type: ignore[arg-type]
    address = f"{nickname.lower()}@example.com"
    someone.register(nickname, address, PASSWORD, about_me=about_me)
    someone.log_in(nickname, PASSWORD)
    (mail,) = mail_sink.wait_for_matching(to=address, subject="Confirm", timeout=20)
    someone.goto(link_in(mail, "/confirm/").removeprefix(system.base_url), shot="confirm")
    someone.submit("main button[type=submit]")
    expect(someone.page.locator(".flashes")).to_contain_text("is confirmed")
    return someone


@pytest.mark.parametrize(("viewport", "names"), [(DESKTOP, ("ann", "Ben")), (PHONE, ("amy", "Bea"))],
                         ids=["1280px", "375px"])
def test_sign_up_find_follow_get_the_mail_post_and_read_it_in_a_followers_timeline(
        system: System, mail_sink: SmtpServer, browser: Browser, neighbours: list[str], viewport: dict[str, int],
        names: tuple[str, str]) -> None:
    width = viewport["width"]
    ann_name, ben_name = names
    ben = confirmed_person(system, mail_sink, browser, ben_name, label=f"ben{width}", viewport=viewport,
                           about_me="Making small, fast web apps.\nBased in Berlin; coffee in hand.")
    ann = confirmed_person(system, mail_sink, browser, ann_name, label=f"ann{width}", viewport=viewport)

    # Ann finds Ben by the start of his nickname, in another case.
    ann.goto("/people")
    ann.page.fill("#q", ben_name[:3].upper())
    ann.submit("form.search button")
    with ann.page.expect_navigation():
        ann.page.click(f"a.nickname:text-is('{ben_name}')")
    ann.seen("profile-before-follow")

    # The button follows in place: no page load (a mark set on this page survives), the count moves.
    ann.page.evaluate("window.stillThisPage = true")
    ann.page.click("form[data-follow] button")
    expect(ann.page.locator("form[data-follow] button")).to_have_text("Unfollow")
    expect(ann.page.locator("[data-followers]")).to_have_text("1 follower")
    assert ann.page.evaluate("window.stillThisPage === true")
    ann.seen("profile-followed")

    # Ben gets the mail, sees Ann among his followers and his count changed.
    mail_sink.wait_for_matching(to=f"{ben_name.lower()}@example.com", subject=FOLLOW, timeout=20)
    ben.goto(f"/user/{ben_name}")
    expect(ben.page.locator("[data-followers]")).to_have_text("1 follower")
    with ben.page.expect_navigation():
        ben.page.click("[data-followers]")
    ben.seen("followers")
    expect(ben.page.locator("ul.people")).to_contain_text(ann_name)

    # Ben posts; it is in Ann's home timeline, among the posts of the others she follows.
    follow_by_api(system, ann_name, neighbours)
    for words in ("Shipped the new search today: find anyone by the first letters of their name.",
                  f"Hello from {ben_name}! First post here.\nMore soon."):
        ben.goto("/")
        ben.page.fill("#post", words)
        ben.submit("form.compose button[type=submit]", shot="posted")
    ann.goto("/", shot="home")
    expect(ann.page.locator("ol.timeline")).to_contain_text(f"Hello from {ben_name}!")
    expect(ann.page.locator("ol.timeline")).to_contain_text("今天的晚霞特别好看。")
    ann.goto(f"/user/{ben_name}", shot="profile")
    ann.goto("/explore", shot="explore")
    expect(ann.page.locator("ol.timeline")).to_contain_text(f"Hello from {ben_name}!")

    # Her own counts are links too: whom she follows, Ben among them.
    ann.goto(f"/user/{ann_name}")
    expect(ann.page.locator(".following-count")).to_have_text(f"{len(neighbours) + 1} following")
    with ann.page.expect_navigation():
        ann.page.click(".following-count")
    ann.seen("following")
    expect(ann.page.locator("ul.people")).to_contain_text(ben_name)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_notification_choices_unsubscribe_from_the_mail_and_log_out_everywhere(
        system: System, mail_sink: SmtpServer, browser: Browser, viewport: dict[str, int]) -> None:
    width = viewport["width"]
    cat_name = f"cat{width}"
    cat = confirmed_person(system, mail_sink, browser, cat_name, label=cat_name, viewport=viewport)
    dan = confirmed_person(system, mail_sink, browser, f"dan{width}", label=f"dan{width}", viewport=viewport)
    dan.goto(f"/user/{cat_name}")
    dan.page.click("form[data-follow] button")
    expect(dan.page.locator("form[data-follow] button")).to_have_text("Unfollow")
    (mail,) = mail_sink.wait_for_matching(to=f"{cat_name}@example.com", subject=FOLLOW, timeout=20)

    # The mail's unsubscribe link, opened in the browser: a page, then its button.
    url = re.fullmatch(r"<(.+)>", str(mail.message["List-Unsubscribe"]))[1]  # type: ignore[index]
    cat.goto(url.removeprefix(system.base_url), shot="unsubscribe")
    cat.submit("main button[type=submit]", shot="unsubscribed")
    expect(cat.page.locator("h1")).to_have_text("Unsubscribed")

    # The settings, one navigation: notifications back on, as a daily digest.
    cat.goto("/settings", shot="settings-profile")
    with cat.page.expect_navigation():
        cat.page.click("nav.settings-nav >> text=Notifications")
    cat.seen("settings-notifications")
    expect(cat.page.locator("input[value=off]")).to_be_checked()
    cat.page.check("input[value=daily]")
    cat.submit("button:text-is('Save')")
    expect(cat.page.locator(".flashes")).to_contain_text("Your notification settings have been saved.")
    expect(cat.page.locator("input[value=daily]")).to_be_checked()
    for section in ("E-mail", "Password", "Sessions", "Delete account"):
        with cat.page.expect_navigation():
            cat.page.click(f"nav.settings-nav >> text={section}")
        cat.seen()

    # Log out everywhere: this browser and another of cat's are both logged out.
    elsewhere = person(browser, system.base_url, f"{cat_name}-elsewhere")
    elsewhere.log_in(cat_name, PASSWORD)
    cat.goto("/settings/sessions")
    cat.submit("button:text-is('Log out everywhere')")
    assert "/auth/login" in cat.page.url
    elsewhere.goto("/settings/profile")
    assert "/auth/login" in elsewhere.page.url


def test_a_follow_pressed_after_the_login_ended_is_done_after_logging_in(
        system: System, mail_sink: SmtpServer, browser: Browser) -> None:
    erin = confirmed_person(system, mail_sink, browser, "erin", label="erin")
    fay = person(browser, system.base_url, "fay")
    fay.register("fay", "fay@example.com", PASSWORD)
    fay.log_in("fay", PASSWORD)
    fay.goto("/user/erin")
    elsewhere = person(browser, system.base_url, "fay-elsewhere")
    elsewhere.log_in("fay", PASSWORD)
    elsewhere.goto("/settings/sessions")
    elsewhere.submit("button:text-is('Log out everywhere')")  # fay's login on the first browser ends too
    with fay.page.expect_navigation():
        fay.page.click("form[data-follow] button")
    fay.seen("follow-needs-login")
    expect(fay.page.locator(".flashes")).to_contain_text("Log in, and you will follow erin right away.")
    fay.log_in("fay", PASSWORD)
    assert fay.page.url.endswith("/user/erin")  # not a 405, the follow not lost
    expect(fay.page.locator(".flashes")).to_contain_text("You are now following erin.")
    expect(fay.page.locator("form[data-follow] button")).to_have_text("Unfollow")
    erin.goto("/user/erin/followers")
    expect(erin.page.locator("ul.people")).to_contain_text("fay")


def test_without_javascript_the_buttons_are_plain_forms(system: System, browser: Browser) -> None:
    gus = person(browser, system.base_url, "gus-nojs", javascript=False)
    gus.register("gus", "gus@example.com", PASSWORD)
    gus.log_in("gus", PASSWORD)
    hal = person(browser, system.base_url, "hal")
    hal.register("hal", "hal@example.com", PASSWORD)
    gus.goto("/user/hal")
    gus.submit("form[data-follow] button")
    expect(gus.page.locator(".flashes")).to_contain_text("You are now following hal.")
    expect(gus.page.locator("[data-followers]")).to_have_text("1 follower")
    gus.submit("form[data-follow] button")
    expect(gus.page.locator(".flashes")).to_contain_text("You are not following hal anymore.")
    expect(gus.page.locator("[data-followers]")).to_have_text("0 followers")


def test_a_64_character_nickname_does_not_widen_the_page_on_a_phone(system: System, browser: Browser) -> None:
    nickname = "L" + "o" * 61 + "ng"
    assert len(nickname) == 64  # the most a nickname may have
    long = person(browser, system.base_url, "long", viewport={"width": 320, "height": 700})
    long.register(nickname, "long@example.com", PASSWORD)
    long.log_in(nickname, PASSWORD)
    long.goto("/")
    long.page.fill("#post", "A name that does not fit, and a page that does.")
    long.submit("form.compose button[type=submit]")
    for path in (f"/user/{nickname}", "/explore", "/people", f"/user/{nickname}/followers"):
        page = long.goto(path)
        expect(page.locator("main")).to_contain_text(nickname)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        nav = page.locator("header.site nav").bounding_box()
        assert nav is not None and nav["x"] + nav["width"] <= 320, path
    for section in ("profile", "email", "password", "notifications", "sessions", "delete"):
        long.goto(f"/settings/{section}")  # each checked by axe and for its width


def test_the_keyboard_reaches_the_content_first_and_focus_is_outlined(system: System, browser: Browser) -> None:
    jo = person(browser, system.base_url, "jo", viewport=PHONE)
    page = jo.goto("/people")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown once focused, not left off-screen
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    jo.page.focus("#q")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_in_simplified_chinese_by_setting_and_by_browser(
        system: System, browser: Browser, scheme: str) -> None:
    stranger = person(browser, system.base_url, f"zh-{scheme}-anonymous", locale="zh-CN", color_scheme=scheme)
    page = stranger.goto("/", shot="welcome")
    assert page.get_attribute("html", "lang") == "zh-CN"
    expect(page.locator("h1")).to_contain_text("你选择关注的人")
    li = person(browser, system.base_url, f"zh-{scheme}", locale="en-US", color_scheme=scheme, viewport=PHONE)
    nickname = f"李雷{scheme}"
    li.register(nickname, f"li-{scheme}@example.com", PASSWORD, locale="zh-CN")
    li.log_in(nickname, PASSWORD)
    li.goto("/")
    assert li.page.get_attribute("html", "lang") == "zh-CN"  # the setting wins over the browser's English
    li.page.fill("#post", "今天的晚霞特别好看。")
    li.submit("form.compose button[type=submit]", shot="home")
    expect(li.page.locator(".flashes")).to_have_text("动态已发布。")
    li.goto(f"/user/{nickname}", shot="profile")
    expect(li.page.locator(".counts")).to_contain_text("1 条动态")
    li.goto("/nowhere", shot="404")
    expect(li.page.locator("h1")).to_have_text("页面不存在")


def test_forms_whose_token_no_longer_holds_are_shown_again_and_the_second_press_works(
        system: System, browser: Browser, neighbours: list[str]) -> None:
    # A token the server refuses, as it refuses one from a page left open past its hour (the
    # unit tests move the clock instead): never a bare 400.
    stale = "document.querySelectorAll('input[name=csrf_token]').forEach((e) => { e.value = 'no longer holds'; })"
    ivy = person(browser, system.base_url, "ivy")
    ivy.register("ivy", "ivy@example.com", PASSWORD)
    ivy.log_in("ivy", PASSWORD)
    ivy.page.fill("#post", "Written before lunch, sent after it.")
    ivy.page.evaluate(stale)
    ivy.submit("form.compose button[type=submit]", shot="post-form-expired")
    expect(ivy.page.locator(".notice.expired")).to_contain_text("please try again")
    expect(ivy.page.locator("#post")).to_have_value("Written before lunch, sent after it.")
    ivy.submit("form.compose button[type=submit]")
    expect(ivy.page.locator("ol.timeline")).to_contain_text("Written before lunch, sent after it.")

    # The Follow button, with the script: one line saying so, and the next press follows.
    ivy.goto(f"/user/{neighbours[0]}")
    ivy.page.evaluate(stale)
    ivy.page.click("form[data-follow] button")
    expect(ivy.page.locator("#live")).to_contain_text("Please try again: the page was open too long.")
    expect(ivy.page.locator("form[data-follow] button")).to_have_text("Follow")
    ivy.seen("follow-expired")
    ivy.page.click("form[data-follow] button")
    expect(ivy.page.locator("form[data-follow] button")).to_have_text("Unfollow")
    expect(ivy.page.locator("#live")).to_contain_text(f"You are now following {neighbours[0]}.")
    ivy.page.click("form[data-follow] button")
    expect(ivy.page.locator("form[data-follow] button")).to_have_text("Follow")
    expect(ivy.page.locator("#live")).to_contain_text(f"You are not following {neighbours[0]} anymore.")
