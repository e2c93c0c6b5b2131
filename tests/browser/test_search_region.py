"""The Search tab in Chromium: a box drawn on the query image searches by that part of it;
several query images search together and are left out of the results."""

import io

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from tests.browser.helpers import PHONE, image_files, no_horizontal_scroll, snap, wait_for_features
from tests.browser.server import ORIGINALS

LEFT, RIGHT = "hat_3.jpg", "shoes_2.jpg"


def side_by_side(path, left: str, right: str):
    """Two library photos, each squeezed to 300 x 400, next to each other in one picture."""
    picture = PILImage.new("RGB", (600, 400))
    for offset, name in ((0, left), (300, right)):
        with PILImage.open(ORIGINALS / name) as photo:
            picture.paste(photo.convert("RGB").resize((300, 400)), (offset, 0))
    out = io.BytesIO()
    picture.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def is_search(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v1/search/")


def searched(response) -> dict:
    """The query as the server took it: its images and the region it cut."""
    assert response.status == 200, response.text()
    return response.json()["query"]


STILL = """() => new Promise((done) => {
    let last = null;
    const check = () => (scrollY === last ? done() : ((last = scrollY), setTimeout(check, 150)));
    check();
})"""


def draw(page, left: float, top: float, right: float, bottom: float, name="both.png") -> None:
    """Drag with the mouse across the query image, corners given as fractions of it."""
    image = page.get_by_role("img", name=f"Query: {name}")
    # Results scroll the page (smoothly): draw once it is still, with the image in view.
    page.evaluate(STILL)
    image.evaluate("img => img.scrollIntoView({block: 'center'})")
    page.evaluate(STILL)
    box = image.bounding_box()
    page.mouse.move(box["x"] + left * box["width"], box["y"] + top * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + (left + right) / 2 * box["width"],
                    box["y"] + (top + bottom) / 2 * box["height"], steps=4)
    page.mouse.move(box["x"] + right * box["width"], box["y"] + bottom * box["height"], steps=4)
    page.mouse.up()


def first_result(page):
    return page.locator(".result").first


def test_a_box_drawn_on_the_query_searches_by_that_part_of_it(search_page, tmp_path):
    page = search_page
    page.locator("[data-search-file]").set_input_files(side_by_side(tmp_path / "both.png", LEFT, RIGHT))
    expect(page.get_by_role("img", name="Query: both.png")).to_be_visible()
    expect(page.get_by_text("Drag on the image to search a part of it.")).to_be_visible()
    whole = page.get_by_role("button", name="Whole image")
    expect(whole).to_be_disabled()

    # The left half: its photo comes first, and the request carried the box.
    draw(page, 0.01, 0.01, 0.49, 0.99)
    box = page.locator("[data-region-box]")
    expect(box).to_be_visible()
    expect(whole).to_be_enabled()
    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    region = searched(sent.value)["region"]
    assert region["x"] == pytest.approx(0.01, abs=0.01), region
    assert region["y"] == pytest.approx(0.01, abs=0.01), region
    assert region["width"] == pytest.approx(0.48, abs=0.01), region
    assert region["height"] == pytest.approx(0.98, abs=0.01), region
    expect(page.locator("[data-results-title]")).to_have_text("Most similar to a region of “both.png”")
    expect(first_result(page)).to_have_attribute("data-name", LEFT)
    snap(page, "search-region-left")

    # A new box over the right half searches again at once and finds the other photo.
    with page.expect_response(is_search) as sent:
        draw(page, 0.51, 0.01, 0.99, 0.99)
    assert searched(sent.value)["region"]["x"] == pytest.approx(0.51, abs=0.01)
    expect(first_result(page)).to_have_attribute("data-name", RIGHT)

    # "Whole image" clears the box and searches the whole picture again.
    with page.expect_response(is_search) as sent:
        whole.click()
    assert searched(sent.value)["region"] is None
    expect(box).to_be_hidden()
    expect(whole).to_be_disabled()
    expect(page.locator("[data-results-title]")).to_have_text("Most similar to “both.png”")


def test_the_box_moves_with_the_arrow_keys_and_delete_clears_it(search_page, tmp_path):
    page = search_page
    page.locator("[data-search-file]").set_input_files(side_by_side(tmp_path / "both.png", LEFT, RIGHT))
    draw(page, 0.1, 0.1, 0.4, 0.9)
    box = page.locator("[data-region-box]")
    before = box.bounding_box()
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert box.bounding_box()["x"] > before["x"]
    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    assert searched(sent.value)["region"]["x"] == pytest.approx(0.14, abs=0.01)
    expect(page.locator(".result")).to_have_count(6)
    box.focus()
    with page.expect_response(is_search) as sent:
        page.keyboard.press("Delete")
    assert searched(sent.value)["region"] is None
    expect(box).to_be_hidden()


def test_a_box_too_small_for_the_server_is_explained(search_page, tmp_path):
    page = search_page
    page.locator("[data-search-file]").set_input_files(side_by_side(tmp_path / "both.png", LEFT, RIGHT))
    draw(page, 0.5, 0.5, 0.52, 0.53)  # about 12 x 12 pixels of the 600 x 400 picture
    page.locator("[data-search-run]").click()
    expect(page.locator("[data-search-alert-text]")).to_contain_text("pixels")
    expect(page.locator(".result")).to_have_count(0)


def test_several_library_images_search_together_without_themselves(search_page):
    page = search_page
    page.get_by_text("Choose from library").click()
    page.get_by_label("Combine several images").check()
    for name in ("shirt_1.jpg", "skirt_1.jpg"):
        page.locator(f'.picker__item[data-name="{name}"]').click()
        expect(page.locator(f'.picker__item[data-name="{name}"]')).to_have_attribute("aria-pressed", "true")
    chips = page.locator(".query-chip")
    expect(chips).to_have_count(2)
    expect(page.locator("[data-query-name]")).to_have_text("2 images, combined")
    expect(page.get_by_text("A region needs a single query image")).to_be_visible()
    expect(page.get_by_role("button", name="Whole image")).to_be_disabled()

    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    query = searched(sent.value)
    assert len(query["image_ids"]) == 2 and query["image_id"] is None, query
    assert query["region"] is None and query["name"] == "shirt_1.jpg, skirt_1.jpg", query
    expect(page.locator(".result")).to_have_count(6)
    names = page.locator(".result").evaluate_all("nodes => nodes.map(n => n.dataset.name)")
    assert not {"shirt_1.jpg", "skirt_1.jpg"} & set(names), names
    expect(page.locator("[data-results-title]")).to_contain_text("shirt_1.jpg")
    snap(page, "search-several")

    # Removing one leaves a single query image again, on which a box can be drawn.
    page.get_by_role("button", name="Remove skirt_1.jpg from the query").click()
    expect(chips).to_have_count(0)
    expect(page.get_by_role("img", name="Query: shirt_1.jpg")).to_be_visible()
    expect(page.get_by_text("Drag on the image to search a part of it.")).to_be_visible()
    expect(page.locator('.picker__item[data-name="skirt_1.jpg"]')).to_have_attribute("aria-pressed", "false")


def test_several_uploads_and_a_library_image_search_together(search_page, tmp_path):
    page = search_page
    uploads = [tmp_path / "mine-1.jpg", tmp_path / "mine-2.jpg"]
    for path, name in zip(uploads, ("pants_1.jpg", "shorts_2.jpg")):
        path.write_bytes((ORIGINALS / name).read_bytes())
    page.locator("[data-search-file]").set_input_files(uploads)
    expect(page.locator(".query-chip")).to_have_count(2)
    page.get_by_text("Choose from library").click()
    page.locator('.picker__item[data-name="pants_3.jpg"]').click()
    expect(page.locator(".query-chip")).to_have_count(3)

    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    query = searched(sent.value)
    assert len(query["image_ids"]) == 1, query
    assert query["name"] == "pants_3.jpg, mine-1.jpg, mine-2.jpg", query
    expect(page.locator(".result")).to_have_count(6)
    names = page.locator(".result").evaluate_all("nodes => nodes.map(n => n.dataset.name)")
    assert "pants_3.jpg" not in names, names


def test_at_most_ten_query_images_with_a_clear_message(search_page, tmp_path):
    page = search_page
    files = image_files(tmp_path, [f"many-{n:02d}.png" for n in range(12)])
    page.locator("[data-search-file]").set_input_files(files)
    expect(page.locator(".query-chip")).to_have_count(10)
    expect(page.locator("[data-query-limit]")).to_have_text(
        "A search takes at most 10 images: 2 were not added.")
    page.get_by_role("button", name="Remove many-00.png from the query").click()
    expect(page.locator(".query-chip")).to_have_count(9)
    expect(page.locator("[data-query-limit]")).to_be_hidden()


def test_a_box_can_be_drawn_on_a_phone(app_server, open_page, tmp_path):
    page = open_page(app_server, viewport=PHONE)
    wait_for_features(page)
    page.get_by_role("tab", name="Search").click()
    page.locator("[data-search-file]").set_input_files(side_by_side(tmp_path / "both.png", LEFT, RIGHT))
    image = page.get_by_role("img", name="Query: both.png")
    expect(image).to_be_visible()
    assert image.bounding_box()["width"] > 300  # the full width, not a 96 px thumbnail
    assert no_horizontal_scroll(page)
    draw(page, 0.52, 0.02, 0.98, 0.98)
    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    assert searched(sent.value)["region"]["x"] == pytest.approx(0.52, abs=0.01)
    expect(first_result(page)).to_have_attribute("data-name", RIGHT)
    assert no_horizontal_scroll(page)
    snap(page, "phone-search-region")


def test_a_box_on_a_library_image_and_whole_image_from_the_keyboard(search_page):
    page = search_page
    page.get_by_text("Choose from library").click()
    page.locator('.picker__item[data-name="outwear_1.jpg"]').click()
    draw(page, 0.2, 0.2, 0.8, 0.8, name="outwear_1.jpg")
    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    query = searched(sent.value)
    assert query["name"] == "outwear_1.jpg" and query["image_id"] is not None, query
    assert query["region"]["width"] == pytest.approx(0.6, abs=0.01), query
    expect(page.locator(".result")).to_have_count(6)
    names = page.locator(".result").evaluate_all("nodes => nodes.map(n => n.dataset.name)")
    assert "outwear_1.jpg" not in names, names

    whole = page.get_by_role("button", name="Whole image")
    whole.focus()
    with page.expect_response(is_search) as sent:
        page.keyboard.press("Enter")
    assert searched(sent.value)["region"] is None
    expect(page.locator("[data-region-box]")).to_be_hidden()


def test_a_keyboard_places_a_box_moves_and_sizes_it(search_page, tmp_path):
    page = search_page
    page.locator("[data-search-file]").set_input_files(side_by_side(tmp_path / "both.png", LEFT, RIGHT))
    page.locator("[data-region]").focus()
    page.keyboard.press("Enter")  # a box in the middle, half the image's size
    box = page.locator("[data-region-box]")
    expect(box).to_be_focused()
    for key in ["ArrowLeft"] * 15 + ["ArrowUp"] * 15:
        page.keyboard.press(key)  # to the top left corner (2% a step, stopping there)
    for _ in range(30):
        page.keyboard.press("Shift+ArrowDown")  # as tall as the image, and no taller
    with page.expect_response(is_search) as sent:
        page.locator("[data-search-run]").click()
    region = searched(sent.value)["region"]
    assert region == pytest.approx({"x": 0, "y": 0, "width": 0.5, "height": 1}, abs=0.001), region
    expect(first_result(page)).to_have_attribute("data-name", LEFT)
