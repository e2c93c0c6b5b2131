"""The admin in Chromium: the icon it asks for and a refused form, with nothing the
Content-Security-Policy blocks (the open_page fixture fails a test on any violation)."""

from playwright.sync_api import expect

from tests.browser.helpers import snap


def test_the_admin_gets_the_favicon_and_so_does_an_anonymous_visitor(app_server, open_page):
    page = open_page(app_server, path="/admin/", ready=False)
    answers = []
    page.on("response", lambda response: answers.append((response.url, response.status)))
    page.reload()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.wait_for_timeout(500)  # the icon is asked for after the page has loaded
    assert not [answer for answer in answers if answer[1] >= 400], answers

    visitor = open_page(app_server, user=None, ready=False, path="/favicon.ico")
    assert visitor.evaluate("document.contentType") == "image/svg+xml"
    assert visitor.url.endswith(".svg")


def test_a_stale_admin_form_gets_a_clear_page_without_inline_styles(app_server, open_page):
    page = open_page(app_server, path="/admin/gallery/image/", ready=False)
    # Another tab signs in again, which renews the CSRF token this page holds.
    page.context.clear_cookies(name="csrftoken")
    page.locator("#result_list tbody input[type=checkbox]").first.check()
    page.locator("select[name=action]").select_option("delete_uploads")
    page.locator("button[name=index]").click()

    expect(page.get_by_role("heading", name="The form has expired")).to_be_visible()
    expect(page.get_by_text("Nothing was changed")).to_be_visible()
    snap(page, "admin-stale-form")
    page.get_by_role("link", name="Reload the page").click()
    expect(page.locator("#result_list")).to_be_visible()
