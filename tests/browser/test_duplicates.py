"""The Duplicates tab in Chromium: a photo and a resized copy of it listed as one group, one kept
and the other deleted from the page; a small turned copy found by its perceptual hash, the page
saying so; viewers see the groups without any way to act on them; a stale group, "not duplicates", resolve all's confirmation and the threshold on a phone."""

import io
import time

from PIL import Image as PILImage
from playwright.sync_api import FormData, expect

from tests.browser.helpers import PHONE, csrf, no_horizontal_scroll, tile, toast, wait_for_features
from tests.browser.server import ORIGINALS


def upload(page, name: str, data: bytes) -> dict:
    form = FormData()
    form.append("file", {"name": name, "mimeType": "image/jpeg", "buffer": data})
    response = page.request.post("/api/v1/images/", multipart=form, headers=csrf(page))
    assert response.status == 201, response.text()
    return response.json()["results"][0]["image"]


def resized(data: bytes, scale: float) -> bytes:
    picture = PILImage.open(io.BytesIO(data)).convert("RGB")
    picture = picture.resize((int(picture.width * scale), int(picture.height * scale)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def wait_for_groups(page, count: int, timeout: float = 60) -> dict:
    """The worker finds pairs after extracting: wait until the API lists ``count`` groups."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = page.request.get("/api/v1/duplicates/").json()
        if body["count"] == count:
            return body
        time.sleep(0.3)
    raise AssertionError(f"Not {count} duplicate groups in {timeout} s: {body}")


def group(page):
    return page.locator(".dup-group")


def test_a_photo_and_its_resized_copy_are_a_group_the_user_resolves(empty_server, open_page):
    page = open_page(empty_server)
    photo = (ORIGINALS / "dress_1.jpg").read_bytes()
    big = upload(page, "dress-big.jpg", photo)
    small = upload(page, "dress-small.jpg", resized(photo, 0.5))
    wait_for_features(page)
    wait_for_groups(page, 1)

    # A viewer sees the group, its tier and similarity, and nothing to act with.
    viewer = open_page(empty_server, user="vera", path="/#duplicates")
    expect(viewer.get_by_role("tab", name="Duplicates")).to_have_attribute("aria-selected", "true")
    expect(group(viewer)).to_have_count(1)
    expect(group(viewer).locator(".dup-image")).to_have_count(2)
    expect(viewer.get_by_role("button", name="Delete marked")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Not duplicates")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Resolve all with the keeper rule")).to_have_count(0)
    expect(viewer.locator(".dup-group input[type=radio]")).to_have_count(0)

    # The editor's page: the tab, reached with the keyboard from the Search tab.
    page.get_by_role("tab", name="Search").click()
    page.get_by_role("tab", name="Search").press("ArrowRight")
    expect(page.get_by_role("tab", name="Duplicates")).to_be_focused()
    card = group(page)
    expect(card).to_have_count(1)
    expect(card.locator(".dup-tier")).to_have_text("Near-duplicate")
    expect(card.locator(".dup-group__similarity")).to_have_text(
        f"{round(wait_for_groups(page, 1)['results'][0]['similarity'] * 100)}% similar")
    # Best keeper first (most pixels): the big one, preselected as kept, the copy as deleted.
    first, second = card.locator(".dup-image").nth(0), card.locator(".dup-image").nth(1)
    expect(first).to_have_attribute("data-name", "dress-big.jpg")
    expect(first.locator(".dup-image__meta")).to_contain_text(f"{big['width']} × {big['height']}")
    expect(second.locator(".dup-image__meta")).to_contain_text(
        f"{small['width']} × {small['height']}")
    expect(card.get_by_label("Keep dress-big.jpg")).to_be_checked()
    expect(card.get_by_label("Delete dress-small.jpg")).to_be_checked()

    # Marking both to delete is not allowed: one must stay.
    card.get_by_label("Delete dress-big.jpg").check()
    expect(card.get_by_role("button", name="Delete marked")).to_be_disabled()
    expect(card.locator(".dup-group__hint")).to_have_text("Keep at least one image.")

    # The user keeps the small copy and deletes the big one, after a confirmation.
    card.get_by_label("Keep dress-small.jpg").check()
    card.get_by_role("button", name="Delete marked").click()
    dialog = page.locator("#confirm")
    expect(dialog.locator("#confirm-title")).to_have_text("Delete 1 marked image?")
    expect(dialog.locator("#confirm-message")).to_contain_text("stay in the Trash for 30 days")
    dialog.get_by_role("button", name="Cancel").click()
    expect(card.locator(".dup-image")).to_have_count(2)
    card.get_by_role("button", name="Delete marked").click()
    dialog.get_by_role("button", name="Delete 1").click()
    moved = toast(page, "success", "Moved 1 image to the trash: dress-big.jpg.")
    expect(moved).to_be_visible()
    expect(group(page)).to_have_count(0)
    expect(page.get_by_text("No duplicates at this threshold")).to_be_visible()

    # Undo brings it back: into the library at once, into its group once its features are
    # made again.
    moved.get_by_role("button", name="Undo").click()
    expect(toast(page, "success", "Restored 1 image.")).to_be_visible()
    wait_for_features(page)
    wait_for_groups(page, 1)
    page.get_by_role("tab", name="Gallery").click()
    page.get_by_role("tab", name="Duplicates").click()
    expect(group(page).locator(".dup-image")).to_have_count(2)

    # Deleted again: gone from the group and the library.
    group(page).get_by_role("radio", name="Keep dress-small.jpg").check()
    group(page).get_by_role("radio", name="Delete dress-big.jpg").check()
    group(page).get_by_role("button", name="Delete marked").click()
    dialog.get_by_role("button", name="Delete 1").click()
    expect(group(page)).to_have_count(0)

    page.get_by_role("tab", name="Gallery").click()
    expect(tile(page, "dress-small.jpg")).to_be_visible()
    expect(tile(page, "dress-big.jpg")).to_have_count(0)
    names = [image["name"] for image in page.request.get("/api/v1/images/").json()["results"]]
    assert names == ["dress-small.jpg"]

    # The Trash view lists it and restores it.
    page.get_by_role("button", name="Trash").click()
    trash = page.locator("#trash")
    item = trash.locator(".trash-item", has_text="dress-big.jpg")
    expect(item).to_be_visible()
    expect(item.locator(".trash-item__meta")).to_contain_text("uploaded by")
    item.get_by_role("button", name="Restore").click()
    expect(toast(page, "success", "Restored “dress-big.jpg”.")).to_be_visible()
    expect(trash.get_by_text("The trash is empty.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(tile(page, "dress-big.jpg")).to_be_visible()


def messenger_copy(data: bytes) -> bytes:
    """A third of the size at JPEG quality 30, turned a quarter (no EXIF orientation)."""
    picture = PILImage.open(io.BytesIO(data)).convert("RGB").transpose(PILImage.Transpose.ROTATE_90)
    picture = picture.resize((picture.width // 3, picture.height // 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=30)
    return out.getvalue()


def test_each_group_shows_which_signal_found_it(empty_server, open_page):
    page = open_page(empty_server)
    photo = (ORIGINALS / "dress_1.jpg").read_bytes()
    upload(page, "dress.jpg", photo)
    upload(page, "dress-from-a-chat.jpg", messenger_copy(photo))
    wait_for_features(page)
    [pair] = wait_for_groups(page, 1)["results"][0]["pairs"]
    assert "hash" in pair["found_by"], pair

    page.get_by_role("tab", name="Duplicates").click()
    card = group(page)
    expect(card).to_have_count(1)
    expect(card.locator(".dup-signals__summary")).to_contain_text("Perceptual hash")
    card.locator(".dup-signals__summary").click()
    bits = pair["hash_distance"]
    expect(card.locator(".dup-pair__names")).to_have_text("dress.jpg and dress-from-a-chat.jpg")
    expect(card.locator(".dup-pair__found")).to_contain_text(
        f"hash {bits} {'bit' if bits == 1 else 'bits'} apart")
    assert no_horizontal_scroll(page)


def test_not_duplicates_and_the_threshold_on_a_phone(empty_server, open_page):
    page = open_page(empty_server, viewport=PHONE)
    photo = (ORIGINALS / "dress_2.jpg").read_bytes()
    upload(page, "a.jpg", photo)
    upload(page, "b.jpg", resized(photo, 0.6))
    wait_for_features(page)
    wait_for_groups(page, 1)

    page.goto("/#duplicates")
    page.wait_for_selector("html[data-ready=true]")
    expect(group(page)).to_have_count(1)
    assert no_horizontal_scroll(page)

    # Another copy joins the group after it was listed: acting on the stale group is refused,
    # the page says so and lists the group again, now with the three images.
    upload(page, "c.jpg", resized(photo, 0.4))
    wait_for_features(page)
    deadline = time.monotonic() + 60
    while wait_for_groups(page, 1)["results"][0]["size"] != 3 and time.monotonic() < deadline:
        time.sleep(0.3)
    expect(group(page).locator(".dup-image")).to_have_count(2)
    group(page).get_by_role("button", name="Delete marked").click()
    with page.expect_response(lambda response: "/resolve/" in response.url) as answer:
        page.locator("#confirm").get_by_role("button", name="Delete 1").click()
    assert answer.value.status == 409
    expect(toast(page, "warning", "The group changed since it was listed")).to_be_visible()
    expect(group(page).locator(".dup-image")).to_have_count(3)
    assert page.request.get("/api/v1/images/").json()["count"] == 3

    # Resolve all asks first and says originals are never deleted; cancelling changes nothing.
    page.get_by_role("button", name="Resolve all with the keeper rule").click()
    expect(page.locator("#confirm-message")).to_contain_text("All 1 group")
    expect(page.locator("#confirm-message")).to_contain_text("Originals are never deleted.")
    page.get_by_role("button", name="Cancel").click()
    expect(group(page)).to_have_count(1)

    group(page).get_by_role("button", name="Not duplicates").click()
    expect(toast(page, "success", "Marked as not duplicates: a.jpg, b.jpg, c.jpg.")).to_be_visible()
    expect(page.get_by_text("No duplicates at this threshold")).to_be_visible()
    assert page.request.get("/api/v1/images/").json()["count"] == 3

    # The slider moves with the keyboard and lists again (still nothing: the group was dismissed).
    slider = page.get_by_label("Threshold")
    slider.focus()
    slider.press("ArrowRight")
    expect(page.locator("[data-dup-threshold-value]")).to_have_text("86%")
    expect(page.get_by_text("No duplicates at this threshold")).to_be_visible()


def test_it_pages_through_many_groups(empty_server, open_page):
    page = open_page(empty_server)
    photos = sorted(ORIGINALS.glob("*.jpg"))
    for photo in photos:
        data = photo.read_bytes()
        upload(page, f"{photo.stem}-a.jpg", data)
        upload(page, f"{photo.stem}-b.jpg", resized(data, 0.5))
    wait_for_features(page, timeout=120)
    # The worker's idle pass pairs the last vectors: wait until the count holds still.
    counts = [None, -1]
    while counts[-1] != counts[-2]:
        time.sleep(1)
        counts.append(page.request.get("/api/v1/duplicates/").json()["count"])
    count = counts[-1]
    assert count > 20, count  # more than one page of 20
    pages = -(-count // 20)

    page.get_by_role("tab", name="Duplicates").click()
    expect(page.locator("[data-dup-page]")).to_have_text(f"Page 1 of {pages}")
    expect(group(page)).to_have_count(20)
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("[data-dup-page]")).to_have_text(f"Page 2 of {pages}")
    expect(group(page)).to_have_count(min(20, count - 20))
    expect(page.get_by_role("button", name="Previous")).to_be_enabled()
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("[data-dup-page]")).to_have_text(f"Page 1 of {pages}")


def test_a_group_wider_than_the_screen_fades_at_the_side_that_scrolls_on(empty_server, open_page):
    page = open_page(empty_server, viewport=PHONE)
    photo = (ORIGINALS / "hat_3.jpg").read_bytes()
    upload(page, "hat-big.jpg", photo)
    upload(page, "hat-medium.jpg", resized(photo, 0.75))
    upload(page, "hat-small.jpg", resized(photo, 0.5))
    wait_for_features(page)
    wait_for_groups(page, 1)
    page.get_by_role("tab", name="Duplicates").click()
    images = group(page).locator(".dup-images")
    expect(images.locator(".dup-image")).to_have_count(3)

    def fades():
        return images.evaluate("""(node) => {
            const style = getComputedStyle(node);
            return ["--dup-fade-start", "--dup-fade-end"].map((name) => style.getPropertyValue(name));
        }""")

    assert images.evaluate("(node) => node.scrollWidth > node.clientWidth")
    assert fades() == ["0px", "64px"]  # more to the right
    images.evaluate("(node) => { node.scrollLeft = node.scrollWidth; }")
    page.wait_for_function("""() => getComputedStyle(document.querySelector(".dup-images"))
        .getPropertyValue("--dup-fade-end") === "0px" """)
    assert fades() == ["64px", "0px"]  # more to the left, none to the right

    # On a desktop the three fit: no fade at all.
    wide = open_page(empty_server, path="/#duplicates")
    expect(group(wide).locator(".dup-image")).to_have_count(3)
    assert wide.locator(".dup-images").evaluate("(node) => node.scrollWidth <= node.clientWidth")
    assert wide.locator(".dup-images").evaluate(
        """(node) => getComputedStyle(node).getPropertyValue("--dup-fade-end")""") == "0px"
