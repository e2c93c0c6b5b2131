"""The Search tab's choice of where to search: all images, uploads only, originals only."""

from playwright.sync_api import expect

from tests.browser.helpers import upload_via_api, wait_for_features
from tests.browser.server import ORIGINALS


def test_it_searches_all_images_uploads_only_or_originals_only(search_page, tmp_path):
    page = search_page
    upload_via_api(page, 2, "my-upload")
    wait_for_features(page)
    query = tmp_path / "my-hat.jpg"
    query.write_bytes((ORIGINALS / "hat_3.jpg").read_bytes())
    page.locator("[data-search-file]").set_input_files(query)
    kind = page.get_by_label("Search in")
    expect(kind).to_have_value("all")
    page.locator("[data-search-run]").click()
    results = page.locator(".result")
    originals = page.locator(".result .badge--original")

    expect(page.locator("[data-results-title]")).to_have_text("Most similar to “my-hat.jpg”")
    expect(results).to_have_count(6)
    expect(results.first).to_have_attribute("data-name", "hat_3.jpg")

    kind.select_option("upload")  # searches again at once
    expect(page.locator("[data-results-title]")).to_have_text(
        "Most similar to “my-hat.jpg” among the uploads")
    expect(results.first).to_be_visible()
    expect(originals).to_have_count(0)
    assert results.count() >= 2  # at least the two uploads made here

    kind.select_option("original")
    expect(page.locator("[data-results-title]")).to_have_text(
        "Most similar to “my-hat.jpg” among the originals")
    expect(results).to_have_count(6)
    expect(originals).to_have_count(6)
    expect(results.first).to_have_attribute("data-name", "hat_3.jpg")
