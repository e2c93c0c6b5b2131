"""Keyword search by label in Chromium: the Gallery tab's "Find by label" box, and the
labels in the viewer.

The server runs the fake extractor with a tiny classifier made here for its vectors: four
classes, each answering to the mean fake vector of one kind of original (sandal: the
shoes, cowboy hat: the hats, jersey: the T-shirts, jean: the trousers).
"""

import json
import time

import numpy as np
import pytest
from playwright.sync_api import expect

from features.extractors.fake import FakeExtractor
from tests.browser.helpers import api_images, snap, tile, wait_for_features
from tests.browser.server import ARTIFACTS, ORIGINALS, start_server

CLASSES = {"shoes": ("n04133789", "sandal"), "hat": ("n03124170", "cowboy_hat"),
           "t-shirt": ("n03595614", "jersey"), "pants": ("n03594734", "jean")}


@pytest.fixture(scope="module")
def labelled_server(tmp_path_factory, static_root):
    folder = tmp_path_factory.mktemp("labelled")
    extractor = FakeExtractor()
    columns = []
    for kind in CLASSES:
        photos = sorted(ORIGINALS.glob(f"{kind}_*.jpg"))
        centre = extractor.extract([path.read_bytes() for path in photos]).mean(axis=0)
        columns.append(centre / np.linalg.norm(centre) * 25)
    np.savez(folder / "head.npz", kernel=np.stack(columns, axis=1).astype(np.float32),
             bias=np.zeros(len(CLASSES), np.float32))
    (folder / "classes.json").write_text(json.dumps(
        {str(number): list(entry) for number, entry in enumerate(CLASSES.values())}))
    server = start_server(folder / "app", static_root=static_root, log_dir=ARTIFACTS,
                          seed_originals=True, extra_env={
                              "LABEL_HEAD_WEIGHTS": str(folder / "head.npz"),
                              "LABEL_CLASS_INDEX": str(folder / "classes.json")})
    yield server
    server.stop()


def labelled_page(server, open_page):
    page = open_page(server)
    wait_for_features(page)
    # The embedded worker labels the library once extraction is done.
    deadline = time.monotonic() + 30
    while api_images(page, page_size=1)["results"][0]["labels"] == [] and \
            time.monotonic() < deadline:
        time.sleep(0.3)
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    return page


def matching(names) -> str:
    return f"{len(names)} {'image' if len(names) == 1 else 'images'} match"


def shown(page) -> set[str]:
    return set(page.locator(".tile[data-name]").evaluate_all(
        "nodes => nodes.map((n) => n.dataset.name)"))


def test_typing_a_broader_term_shows_the_images_with_such_a_label(labelled_server, open_page):
    page = labelled_page(labelled_server, open_page)
    expected = {image["name"] for image in api_images(page, label="footwear",
                                                      page_size=100)["results"]}
    assert len({name for name in expected if name.startswith("shoes_")}) >= 3, expected

    hint = page.get_by_text("Labels are ImageNet's 1000 classes")
    expect(hint).to_be_hidden()
    page.get_by_label("Find by label").focus()
    expect(hint).to_be_visible()
    expect(page.get_by_label("Find by label")).to_have_accessible_description(
        hint.inner_text())
    page.get_by_label("Find by label").fill("Footwear")

    expect(page.locator("[data-gallery-count]")).to_have_text(matching(expected))
    assert shown(page) == expected
    snap(page, "labels-footwear")

    page.get_by_label("Find by label").fill("no such thing")
    expect(page.locator("[data-gallery-empty-text]")).to_have_text(
        "No image matches this filter.")
    expect(page.locator(".tile[data-name]")).to_have_count(0)

    page.get_by_label("Find by label").fill("")
    expect(page.locator("[data-gallery-count]")).to_have_text("50 images")


def test_the_viewer_shows_an_image_labels_and_a_label_finds_the_others(labelled_server,
                                                                       open_page):
    page = labelled_page(labelled_server, open_page)
    labels = {image["name"]: image["labels"] for image in api_images(
        page, page_size=100)["results"]}
    name = next(name for name, found in labels.items()
                if name.startswith("shoes_") and found[0]["name"] == "sandal")
    expected = {image["name"] for image in api_images(page, label="sandal",
                                                      page_size=100)["results"]}

    tile(page, name).locator("[data-action=open]").click()
    viewer = page.locator("#viewer")
    chips = viewer.locator(".label-chip")
    expect(chips).to_have_count(len(labels[name]))
    expect(chips.first).to_contain_text("sandal")
    expect(chips.first.locator(".label-chip__score")).to_have_text(
        f"{round(labels[name][0]['score'] * 100)}%")
    snap(page, "labels-viewer")

    chips.first.click()

    expect(viewer).not_to_be_visible()
    expect(page.get_by_label("Find by label")).to_have_value("sandal")
    expect(page.locator("[data-gallery-count]")).to_have_text(matching(expected))
    assert shown(page) == expected


def test_the_admins_image_list_keeps_each_row_one_line_high(labelled_server, open_page):
    labelled_page(labelled_server, open_page).close()
    page = open_page(labelled_server, path="/admin/gallery/image/", ready=False,
                     viewport={"width": 1024, "height": 800})
    cells = page.locator("#result_list td.field-top_labels")
    expect(cells.first).to_contain_text("%")
    # The preview sets the height (48 px and the padding): the labels stay on one line,
    # cut short, with all of them in the cell's tooltip.
    heights = page.locator("#result_list tbody tr").evaluate_all(
        "rows => rows.map((row) => row.getBoundingClientRect().height)")
    assert max(heights) < 75, heights
    first = cells.first.locator("[title]")
    assert first.get_attribute("title") == first.inner_text()
    assert first.evaluate("(node) => getComputedStyle(node).textOverflow") == "ellipsis"
    snap(page, "admin-image-list-labels")
