"""Fixtures of the browser tests: a live ImageSim, Debian's Chromium, and pages that
save a screenshot when their test ends (test-artifacts/browser/<test>.png)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.helpers import DESKTOP, settle, sign_in, wait_for_features
from tests.browser.server import ADMIN, ARTIFACTS, collect_static, start_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Chromium logs what the Content-Security-Policy blocks as a console error already; this
# says it once more in words of its own, so a violation can never pass unnoticed.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => console.error(
    `CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`));
"""


def pytest_collection_modifyitems(items):
    # This hook sees every collected test, not only this folder's: mark ours alone.
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    collect_static(root)
    return root


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, static_root):
    """The real app with the 50 photos of ../shared/data/originals as originals, shared by
    the session's tests."""
    server = start_server(tmp_path_factory.mktemp("library"), static_root=static_root,
                          log_dir=ARTIFACTS, seed_originals=True)
    yield server
    server.stop()


@pytest.fixture
def fresh_library(tmp_path_factory, static_root):
    """A fresh app with the originals and no vectors yet, for tests that need that state."""
    server = start_server(tmp_path_factory.mktemp("fresh"), static_root=static_root,
                          log_dir=ARTIFACTS, seed_originals=True)
    yield server
    server.stop()


@pytest.fixture
def empty_server(tmp_path_factory, static_root):
    """A fresh app with an empty library, for the tests that need one."""
    server = start_server(tmp_path_factory.mktemp("empty"), static_root=static_root,
                          log_dir=ARTIFACTS, seed_originals=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bin/test does).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def sessions():
    """(server url, user name) -> the cookies of a session made with the sign-in form.

    Each user signs in through the form once per server; later pages of that user start
    with its cookies (a sign-in costs a second: the password hash is slow on purpose)."""
    return {}


@pytest.fixture
def open_page(browser, sessions, request):
    """open_page(server, user=ADMIN, viewport=DESKTOP, color_scheme="light", path="/",
    ws_refused=False, ready=True) -> a page at ``path``, signed in as ``user``.

    The user signs in through the real sign-in form, or with a session an earlier page
    made that way (``user=None``: not at all, an anonymous visitor); with ``ready`` it
    waits until the gallery page has started. Each page saves a screenshot when the test
    ends; a JavaScript error on the page (a Content-Security-Policy violation included),
    or a request to anywhere but the app, fails the test.
    """
    contexts, pages = [], []

    def _open(server, *, user=ADMIN, viewport=DESKTOP, color_scheme="light", path="/",
              ws_refused=False, ready=True):
        saved = sessions.get((server.url, user)) if user else None
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme,
                                      base_url=server.url, storage_state=saved)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        if ws_refused:
            context.route_web_socket(re.compile(r"/ws/features/$"), lambda ws: ws.close())
        page = context.new_page()
        page.js_errors = []
        page.outside_requests = []
        page.on("request", lambda req: req.url.startswith((server.url + "/", "data:", "blob:"))
                or page.outside_requests.append(req.url))
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        page.on("console", lambda msg: msg.type == "error" and page.js_errors.append(
            f"console: {msg.text}"))
        contexts.append(context)
        pages.append(page)
        if saved:
            page.goto(path)
        if user and (not saved or "/accounts/sign-in/" in page.url):  # none yet, or it ended
            sign_in(page, user, next_path=path)
            page.wait_for_url(lambda url: "/accounts/" not in url)
            # Cookies only: what a test leaves in localStorage stays with its own page.
            sessions[(server.url, user)] = {"cookies": context.cookies(), "origins": []}
        elif not user:
            page.goto(path)
        if ready:
            page.wait_for_selector("html[data-ready=true]")
        return page

    yield _open

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    errors, outside = [], []
    for number, page in enumerate(pages):
        suffix = "" if number == 0 else f"-{number + 1}"
        if not page.is_closed():
            settle(page)
            page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"))
        errors += page.js_errors
        outside += page.outside_requests
    for context in contexts:
        context.close()
    # A 4xx answer logs "Failed to load resource"; the tests check what the page shows of it.
    unexpected = [e for e in errors if not e.startswith("console: Failed to load resource")]
    assert not unexpected, f"JavaScript errors on the page: {unexpected}"
    # Everything (scripts, styles, icons, fonts) comes from the app itself.
    assert not outside, f"The page fetched from elsewhere: {outside}"


@pytest.fixture
def search_page(app_server, open_page):
    """The page on the Search tab, once the library's features are ready."""
    page = open_page(app_server)
    wait_for_features(page)
    page.get_by_role("tab", name="Search").click()
    return page
