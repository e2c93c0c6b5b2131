"""The Gallery tab in Chromium: uploads, deletes, originals, the viewer, the windowed grid."""

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.browser.helpers import (
    PHONE,
    api_images,
    csrf,
    drop_files,
    image_files,
    no_horizontal_scroll,
    snap,
    tile,
    toast,
    upload_via_api,
    wait_for_features,
)
from tests.browser.server import ARTIFACTS, start_server


def test_it_shows_originals_with_a_badge_and_no_way_to_delete_them(app_server, open_page):
    page = open_page(app_server)
    page.get_by_label("Show").select_option("original")
    expect(page.locator("[data-gallery-count]")).to_have_text("50 images match")
    original = tile(page, "t-shirt_5.jpg")  # the newest original comes first
    expect(original.locator(".badge--original")).to_have_text("Original")
    expect(original.locator("img")).to_have_attribute("alt", "t-shirt_5.jpg")
    expect(page.locator(".tile--original .tile__delete")).to_have_count(0)

    # In select mode an original cannot be picked for deletion.
    page.get_by_role("button", name="Select").click()
    original.locator(".tile__open").click(force=True)  # aria-disabled: a click does nothing
    expect(page.locator("[data-selection-count]")).to_have_text("0 selected")
    expect(page.get_by_role("button", name="Delete selected")).to_be_disabled()
    expect(original.locator(".tile__open")).to_have_attribute("aria-disabled", "true")

    # And the server refuses too, should anyone ask it directly.
    image_id = original.get_attribute("data-id")
    response = page.request.delete(f"/api/v1/images/{image_id}/", headers=csrf(page))
    assert response.status == 403
    assert response.json()["detail"] == (
        "Original images are protected and cannot be deleted: t-shirt_5.jpg")


def test_it_uploads_several_picked_files_and_sums_them_up_in_one_toast(
        app_server, open_page, tmp_path):
    page = open_page(app_server)
    before = api_images(page)["count"]
    files = image_files(tmp_path, ["red-sofa.png", "blue-chair.jpg", "green-lamp.gif"])

    page.locator("[data-upload-input]").set_input_files(files)

    expect(toast(page, "success", "3 images added.")).to_have_count(1)
    expect(page.locator(".toast")).to_have_count(1)
    for name in ("red-sofa.png", "blue-chair.jpg", "green-lamp.gif"):
        expect(tile(page, name)).to_be_visible()
        expect(tile(page, name).locator("img")).to_have_attribute(
            "src", re.compile(r"^/images/thumb/"))
        expect(tile(page, name).locator(".tile__delete")).to_have_count(1)
    expect(page.locator("[data-gallery-count]")).to_have_text(f"{before + 3} images")


def test_it_folds_the_finished_uploads_into_a_summary_line(app_server, open_page, tmp_path):
    page = open_page(app_server)
    names = [f"fold-{n:02d}.png" for n in range(8)]
    files = image_files(tmp_path, names)
    # One of them is in the library already: its copy is a duplicate.
    page.locator("[data-upload-input]").set_input_files(files[0])
    expect(toast(page, "success", "“fold-00.png” was added to the library.")).to_be_visible()

    page.locator("[data-upload-input]").set_input_files(files)

    summary = page.locator("[data-upload-summary]")
    expect(summary).to_have_text("7 images added, 1 already in the library.")
    expect(toast(page, "success", "7 images added, 1 already in the library.")).to_be_visible()
    list_ = page.locator("[data-upload-list]")
    expect(list_).to_be_hidden()
    # The library starts right below the upload card: the eight rows take no room.
    card_bottom = page.locator(".upload-card").bounding_box()
    dropzone = page.locator("[data-dropzone=gallery]").bounding_box()
    assert card_bottom["y"] + card_bottom["height"] < dropzone["y"] + dropzone["height"] + 80
    snap(page, "uploads-folded")

    page.get_by_role("button", name="Show details").click()
    expect(list_).to_be_visible()
    expect(list_.locator(".upload")).to_have_count(8)
    expect(list_.locator('.upload[data-name="fold-00.png"] .upload__state')).to_have_text(
        "Already in the library as “fold-00.png”")
    page.get_by_role("button", name="Hide details").click()
    expect(list_).to_be_hidden()


def test_it_uploads_files_dropped_on_the_upload_area(app_server, open_page, tmp_path):
    page = open_page(app_server)
    files = image_files(tmp_path, ["dropped-1.png", "dropped-2.png"])

    drop_files(page, "[data-dropzone=gallery]", files)

    expect(toast(page, "success", "2 images added.")).to_be_visible()
    expect(tile(page, "dropped-1.png")).to_be_visible()
    expect(tile(page, "dropped-2.png")).to_be_visible()


def test_it_shows_the_servers_reason_when_a_file_is_not_an_image(app_server, open_page, tmp_path):
    page = open_page(app_server)
    fake = tmp_path / "holiday.png"
    fake.write_text("these are notes, not a picture")
    good, = image_files(tmp_path, ["fine.png"])

    page.locator("[data-upload-input]").set_input_files([fake, good])

    expect(toast(page, "warning", "1 image added, 1 refused: “holiday.png” "
                 "(The file is not an image ImageSim can read).")).to_be_visible()
    refused = page.locator('.upload[data-name="holiday.png"]')
    expect(refused).to_have_attribute("data-state", "failed")
    # Each file is its own upload: the good one still lands.
    expect(tile(page, "fine.png")).to_be_visible()
    expect(tile(page, "holiday.png")).to_have_count(0)
    page.get_by_role("button", name="Show details").click()
    expect(refused.locator(".upload__state")).to_have_text(
        "Failed: The file is not an image ImageSim can read.")
    assert no_horizontal_scroll(page)
    snap(page, "upload-error-toast")


def test_it_refuses_a_file_over_the_size_limit_with_the_servers_reason(
        app_server, open_page, tmp_path):
    page = open_page(app_server)
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + bytes(17 * 2**20))

    page.locator("[data-upload-input]").set_input_files(huge)

    expect(toast(page, "error", "“huge.jpg” was not uploaded: "
                 "The file is larger than the 16 MB limit.")).to_be_visible()
    expect(page.locator('.upload[data-name="huge.jpg"]')).to_have_attribute("data-state", "failed")


def test_it_deletes_one_image_after_a_confirmation(app_server, open_page, tmp_path):
    page = open_page(app_server)
    page.locator("[data-upload-input]").set_input_files(image_files(tmp_path, ["unwanted.png"]))
    target = tile(page, "unwanted.png")
    expect(target).to_be_visible()

    # Cancelling changes nothing.
    target.hover()
    target.get_by_role("button", name="Delete unwanted.png").click()
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-message")).to_contain_text("“unwanted.png” will be removed")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(target).to_be_visible()

    target.hover()
    target.get_by_role("button", name="Delete unwanted.png").click()
    dialog.get_by_role("button", name="Delete").click()

    expect(toast(page, "success", "Moved “unwanted.png” to the trash.")).to_be_visible()
    expect(target).to_have_count(0)
    assert api_images(page, q="unwanted.png")["count"] == 0

    # The toast's Undo brings it back.
    toast(page, "success", "Moved “unwanted.png” to the trash.").get_by_role(
        "button", name="Undo").click()
    expect(toast(page, "success", "Restored 1 image.")).to_be_visible()
    expect(tile(page, "unwanted.png")).to_be_visible()
    assert api_images(page, q="unwanted.png")["count"] == 1


def test_it_deletes_several_selected_images_in_one_go(app_server, open_page, tmp_path):
    page = open_page(app_server)
    names = ["batch-a.png", "batch-b.png", "batch-c.png"]
    page.locator("[data-upload-input]").set_input_files(image_files(tmp_path, names))
    for name in names:
        expect(tile(page, name)).to_be_visible()
    before = api_images(page)["count"]

    page.get_by_role("button", name="Select").click()
    for name in names:
        tile(page, name).get_by_role("button", name=f"Select {name}").click()
    expect(page.locator("[data-selection-count]")).to_have_text("3 selected")
    expect(tile(page, "batch-b.png")).to_have_class(re.compile("tile--selected"))
    page.get_by_role("button", name="Delete selected").click()
    dialog = page.locator("#confirm")
    expect(dialog.locator("#confirm-title")).to_have_text("Delete 3 images?")
    snap(page, "batch-delete-confirmation")
    dialog.get_by_role("button", name="Delete 3").click()

    expect(toast(page, "success", "Moved 3 images to the trash.")).to_be_visible()
    for name in names:
        expect(tile(page, name)).to_have_count(0)
    expect(page.locator("[data-selection-bar]")).to_be_hidden()
    expect(page.locator("[data-gallery-count]")).to_have_text(f"{before - 3} images")

    # The Trash: one deleted for good, one restored, the rest emptied, each as asked.
    page.get_by_role("button", name="Trash").click()
    trash = page.locator("#trash")
    for name in names:
        expect(trash.locator(".trash-item", has_text=name)).to_be_visible()
    trash.locator(".trash-item", has_text="batch-a.png").get_by_role(
        "button", name="Delete for good").click()
    dialog.get_by_role("button", name="Delete for good").click()
    expect(trash.locator(".trash-item", has_text="batch-a.png")).to_have_count(0)
    trash.locator(".trash-item", has_text="batch-b.png").get_by_role("button", name="Restore").click()
    expect(trash.locator(".trash-item", has_text="batch-b.png")).to_have_count(0)
    trash.get_by_role("button", name="Empty trash").click()
    expect(dialog.locator("#confirm-title")).to_have_text("Empty the trash?")
    dialog.get_by_role("button", name="Empty trash").click()
    expect(trash.get_by_text("The trash is empty.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(tile(page, "batch-b.png")).to_be_visible()
    assert page.request.get("/api/v1/trash/").json()["count"] == 0
    assert api_images(page, q="batch-")["count"] == 1


def test_it_shows_the_full_image_and_moves_with_the_keyboard(app_server, open_page):
    page = open_page(app_server)
    first = page.locator(".tile").nth(0)
    second = page.locator(".tile").nth(1)
    first_name, second_name = first.get_attribute("data-name"), second.get_attribute("data-name")

    first.locator(".tile__open").focus()
    page.keyboard.press("Enter")
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator("#viewer-title")).to_have_text(first_name)
    image_url = page.request.get(f"/api/v1/images/{first.get_attribute('data-id')}/").json()["url"]
    expect(viewer.locator("[data-viewer-image]")).to_have_attribute("src", image_url)
    expect(viewer.locator("[data-viewer-image]")).to_have_attribute("alt", first_name)
    page.keyboard.press("ArrowRight")
    expect(viewer.locator("#viewer-title")).to_have_text(second_name)
    expect(viewer.locator("[data-viewer-counter]")).to_contain_text("2 / ")
    snap(page, "viewer-second-image")
    page.keyboard.press("ArrowLeft")
    expect(viewer.locator("#viewer-title")).to_have_text(first_name)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(first.locator(".tile__open")).to_be_focused()


def test_it_keeps_the_grid_small_and_loads_pages_as_you_scroll(app_server, open_page):
    page = open_page(app_server)
    added = upload_via_api(page, 240, prefix="many")
    try:
        page.reload()
        total = api_images(page)["count"]
        expect(page.locator("[data-gallery-count]")).to_have_text(f"{total} images")
        in_dom = page.locator(".tile").count()
        assert 0 < in_dom < 80, in_dom

        # The oldest image is last: scrolling down fetches the pages in between.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        expect(tile(page, "dress_1.jpg")).to_be_visible()
        expect(tile(page, "dress_1.jpg").locator("img")).to_have_attribute(
            "src", "/images/thumb/dress_1.jpg")
        assert page.locator(".tile").count() < 80
        assert page.locator(".tile img[src]").count() < 80
    finally:
        response = page.request.post("/api/v1/images/bulk-delete/", headers=csrf(page),
                                     data={"ids": [image["id"] for image in added]})
        assert response.status == 200, response.text()


def test_it_fits_a_phone_screen_without_horizontal_scroll(app_server, open_page):
    page = open_page(app_server, viewport=PHONE)
    # On a phone the grid starts below the upload, features and label boxes; thumbnails
    # load as they come near the screen.
    page.locator(".tile").first.scroll_into_view_if_needed()
    expect(page.locator(".tile img[src]").first).to_be_visible()
    assert no_horizontal_scroll(page)
    snap(page, "phone-gallery")

    page.evaluate("window.scrollTo(0, 900)")
    page.get_by_role("button", name="Select").click()
    assert no_horizontal_scroll(page)
    snap(page, "phone-gallery-select")
    page.get_by_role("button", name="Cancel").click()

    page.get_by_role("tab", name="Search").click()
    assert no_horizontal_scroll(page)
    snap(page, "phone-search-upload")
    page.get_by_text("Choose from library").click()
    expect(page.locator(".picker__item").first).to_be_visible()
    assert no_horizontal_scroll(page)

    wait_for_features(page)
    page.locator('.picker__item[data-name="pants_1.jpg"]').click()
    page.locator("[data-search-run]").click()
    expect(page.locator(".result")).to_have_count(6)
    assert no_horizontal_scroll(page)
    snap(page, "phone-search-results")
    page.locator(".result").first.get_by_role("button", name=re.compile("full size")).click()
    expect(page.locator("#viewer")).to_be_visible()
    assert no_horizontal_scroll(page)


def test_it_follows_the_systems_dark_theme(app_server, open_page):
    page = open_page(app_server, color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 23)"
    light = open_page(app_server, color_scheme="light")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 245, 249)"


def test_it_shows_how_to_begin_in_an_empty_library(empty_server, open_page):
    page = open_page(empty_server)
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
    # Uploads get their features by themselves: no step asks to generate them.
    steps = page.locator("[data-getting-started] .steps li")
    expect(steps.nth(1)).to_have_text(
        "Wait a moment. ImageSim computes each new image's feature vector by itself, in the "
        "background; the Features card shows its progress.")
    expect(page.locator("[data-getting-started]")).not_to_contain_text("Generate features")
    expect(page.locator("[data-gallery-empty]")).to_have_text(
        "The library is empty: upload a few images to begin.")
    expect(page.locator("[data-features-status]")).to_have_text(
        "No images yet: upload some, and their features follow by themselves.")
    expect(page.get_by_role("button", name="Generate features")).to_be_disabled()

    page.get_by_role("button", name="Hide getting started").click()
    expect(page.get_by_role("heading", name="Getting started")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-features-status]")).to_have_text(
        "No images yet: upload some, and their features follow by themselves.")
    expect(page.get_by_role("heading", name="Getting started")).to_be_hidden()


def fake_library(total: int, requested: list, sizes: set, page_size: int = 60):
    """A route answering the library's list as if it held ``total`` images (a library this
    big takes long to build): what is tested is what the page asks for and shows."""

    def answer(route):
        params = parse_qs(urlparse(route.request.url).query)
        if params.get("kind", ["all"]) != ["all"] or params.get("q"):
            return route.continue_()
        number = int(params.get("page", ["1"])[0])
        requested.append(number)
        sizes.add(params.get("page_size", ["(none)"])[0])
        start = (number - 1) * page_size
        results = [{
            "id": 1_000_000 + i, "filename": f"big-{i:06d}.jpg", "name": f"big-{i:06d}.jpg",
            "is_original": False, "width": 400, "height": 533, "format": "JPEG",
            "size_bytes": 20000, "sha256": f"{i:064x}", "uploaded_at": "2026-01-01T00:00:00Z",
            "url": "/images/dress_1.jpg", "thumbnail_url": "/images/thumb/dress_1.jpg",
        } for i in range(start, min(total, start + page_size))]
        route.fulfill(json={"count": total, "next": None, "previous": None, "results": results})

    return answer


def test_it_stays_small_with_fifty_thousand_images(app_server, open_page):
    requested, sizes = [], set()
    page = open_page(app_server)
    page.route(re.compile(r"/api/v1/images/\?"), fake_library(50_000, requested, sizes))
    page.reload()
    expect(page.locator("[data-gallery-count]")).to_have_text("50,000 images")
    expect(tile(page, "big-000000.jpg")).to_be_visible()
    assert page.locator(".tile").count() < 80

    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    middle = page.locator(".tile:not(.tile--loading)").filter(has=page.locator("img[src]")).first
    expect(middle).to_have_attribute("data-name", re.compile(r"big-02\d{4}\.jpg"))
    assert page.locator(".tile").count() < 80
    # Only the pages in view were fetched, not the thousands in between.
    assert len(set(requested)) <= 6 and max(requested) > 300, requested
    # The page says which page size it counts on, so it never disagrees with the server's.
    assert sizes == {"60"}, sizes


def test_it_scrolls_through_a_million_images_to_the_last(app_server, open_page):
    # A million rows are taller than a browser lets an element be: the grid keeps a height
    # it may have, and scrolling it still reaches every image.
    requested, total = [], 1_000_000
    page = open_page(app_server)
    page.route(re.compile(r"/api/v1/images/\?"), fake_library(total, requested, set()))
    page.reload()
    expect(page.locator("[data-gallery-count]")).to_have_text("1,000,000 images")
    expect(tile(page, "big-000000.jpg")).to_be_visible()
    assert page.evaluate("document.querySelector('[data-gallery-grid]').offsetHeight") <= 10_000_000

    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    middle = page.locator(".tile:not(.tile--loading)").filter(has=page.locator("img[src]")).first
    expect(middle).to_have_attribute("data-name", re.compile(r"big-(49|50)\d{4}\.jpg"))

    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(tile(page, "big-999999.jpg")).to_be_in_viewport()
    assert page.locator(".tile").count() < 80
    assert max(requested) == total // 60 + 1, sorted(set(requested))
    # The viewer counts in the gallery's figures.
    tile(page, "big-999999.jpg").click()
    expect(page.locator("[data-viewer-counter]")).to_have_text("1,000,000 / 1,000,000")
    page.keyboard.press("Escape")
    expect(page.locator("[data-viewer-counter]")).to_be_hidden()
    # A wheel turn up from the end shows the rows just before it, not a jump.
    page.mouse.wheel(0, -300)
    expect(tile(page, "big-999999.jpg")).not_to_be_in_viewport()
    shown = page.locator(".tile:not(.tile--loading)").filter(has=page.locator("img[src]")).first
    expect(shown).to_have_attribute("data-name", re.compile(r"big-99\d{4}\.jpg"))


def test_it_moves_between_tabs_with_the_keyboard(app_server, open_page):
    page = open_page(app_server)
    page.get_by_role("tab", name="Gallery").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Search")).to_be_focused()
    expect(page.get_by_role("tab", name="Search")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Search")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Gallery")).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tabpanel", name="Gallery")).to_be_visible()


def test_it_tells_the_configured_upload_limit(app_server, open_page, tmp_path_factory, static_root):
    hint = "JPEG, PNG, GIF, BMP or WebP, up to {} MB each, several at once"
    page = open_page(app_server)
    expect(page.locator('[data-dropzone="gallery"] .dropzone__hint')).to_have_text(hint.format(16))

    server = start_server(tmp_path_factory.mktemp("small-uploads"), static_root=static_root,
                          log_dir=ARTIFACTS, seed_originals=False, extra_env={"MAX_UPLOAD_MB": "5"})
    try:
        page = open_page(server)
        expect(page.locator('[data-dropzone="gallery"] .dropzone__hint')).to_have_text(hint.format(5))
        page.close()  # before its server stops, or its websocket would retry and fail
    finally:
        server.stop()
