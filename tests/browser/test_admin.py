"""The admin in Chromium: the icon it asks for and a refused form, with nothing the
Content-Security-Policy blocks (the open_page fixture fails a test on any violation)."""

from playwright.sync_api import expect




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

