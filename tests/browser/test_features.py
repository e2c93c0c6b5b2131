"""Generating features from the page: the progress bar, over the websocket or without it."""

from playwright.sync_api import expect

from tests.browser.helpers import snap, toast


def _generate_and_watch(page):
    status = page.locator("[data-features-status]")
    expect(status).to_have_text("0 of 50 images have features; 50 pending.")
    page.get_by_role("button", name="Generate features").click()

    bar = page.get_by_role("progressbar", name="Feature generation")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.locator("[data-features-percent]")).to_have_text("100%")
    expect(page.locator("[data-features-counts]")).to_have_text("50 / 50 images")
    expect(page.locator("[data-features-eta]")).to_have_text("Done")
    expect(page.locator("[data-features-rate]")).to_contain_text("images/s")
    expect(toast(page, "success", "Features generated for 50 images.")).to_be_visible()
    expect(status).to_have_text("All 50 images have features. Search is ready.")
    expect(page.get_by_role("button", name="Features up to date")).to_be_disabled()


def test_it_generates_features_and_the_bar_reaches_100_percent(fresh_library, open_page):
    page = open_page(fresh_library)
    # Record every percentage the bar shows, to see it move rather than jump.
    page.evaluate("""() => {
        window.seenPercents = [];
        const bar = document.querySelector("[data-features-bar]");
        new MutationObserver(() => window.seenPercents.push(Number(bar.getAttribute("aria-valuenow"))))
            .observe(bar, { attributes: true, attributeFilter: ["aria-valuenow"] });
    }""")

    _generate_and_watch(page)

    seen = page.evaluate("window.seenPercents")
    assert seen[-1] == 100 and seen == sorted(seen), seen
    snap(page, "features-done")

    # A reload finds the finished job and the clear "all done" state again.
    page.reload()
    expect(page.get_by_role("progressbar", name="Feature generation")).to_have_attribute(
        "aria-valuenow", "100")
    expect(page.locator("[data-features-status]")).to_have_text(
        "All 50 images have features. Search is ready.")


def test_it_follows_the_job_without_the_websocket(fresh_library, open_page):
    # Every websocket to the progress endpoint is refused: the page falls back to polling.
    page = open_page(fresh_library, ws_refused=True)
    expect(page.locator("[data-connection]")).to_be_visible()
    expect(page.locator("[data-connection]")).to_have_text("Live updates reconnecting…")

    _generate_and_watch(page)


def test_it_shows_a_running_job_found_after_a_reload(app_server, open_page):
    # A job in the middle of its run, as the status endpoint reports it after a reload
    # (stood in for by the browser: a real job of the fake extractor ends too soon to catch).
    job = {
        "id": 7, "state": "running", "total": 200, "done": 80, "failed": 1, "percent": 40.0,
        "rate": 12.5, "eta_seconds": 10,
        "failures": [{"image_id": 3, "filename": "broken.jpg",
                      "reason": "The image is corrupt or truncated."}],
        "created_at": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:01Z",
        "finished_at": None,
    }
    counts = {"images": 250, "with_vectors": 129, "pending": 120, "failed": 1,
              "original_vectors": 50, "user_vectors": 79}
    page = open_page(app_server, ws_refused=True)
    page.route("**/api/v1/features/status/", lambda route: route.fulfill(
        json={"job": job, "counts": counts, "extractor": "fake-colour-8x8-v1"}))
    page.reload()

    expect(page.get_by_role("progressbar", name="Feature generation")).to_have_attribute(
        "aria-valuenow", "40")
    expect(page.locator("[data-features-percent]")).to_have_text("40%")
    # Processed counts the failed image too, as the percentage does; failures show apart.
    expect(page.locator("[data-features-counts]")).to_have_text("81 / 200 images, 1 failed")
    expect(page.locator("[data-features-rate]")).to_have_text("12.5 images/s")
    expect(page.locator("[data-features-eta]")).to_have_text("ETA 10 s")
    # The status line says what the bar says, from the job's numbers.
    expect(page.locator("[data-features-status]")).to_have_text(
        "Extracting features: 81 of 200 images done, 1 failed.")
    expect(page.get_by_role("button", name="Generating…")).to_be_disabled()
    page.get_by_text("1 image failed").click()
    expect(page.locator("[data-features-failures-list] li")).to_have_text(
        "broken.jpg The image is corrupt or truncated.")


def test_it_offers_to_retry_when_only_failed_images_are_left(app_server, open_page):
    # A finished job that could not read 2 of its 10 images: nothing is pending, yet a
    # new job would try those 2 again, so the button stays on and says so.
    job = {
        "id": 8, "state": "done", "total": 10, "done": 8, "failed": 2, "percent": 100.0,
        "rate": 4.0, "eta_seconds": None,
        "failures": [{"image_id": 3, "filename": "broken.jpg", "reason": "The image is corrupt."},
                     {"image_id": 4, "filename": "cut.png", "reason": "The image is truncated."}],
        "created_at": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:01Z",
        "finished_at": "2026-01-01T00:00:04Z",
    }
    counts = {"images": 60, "with_vectors": 58, "pending": 0, "failed": 2,
              "original_vectors": 50, "user_vectors": 8}
    page = open_page(app_server, ws_refused=True)
    page.route("**/api/v1/features/status/", lambda route: route.fulfill(
        json={"job": job, "counts": counts, "extractor": "fake-colour-8x8-v1"}))
    retried = {**job, "id": 9, "finished_at": "2026-01-01T00:01:00Z"}
    page.route("**/api/v1/features/jobs/", lambda route: route.fulfill(status=202, json=retried))
    page.reload()

    expect(page.locator("[data-features-status]")).to_have_text(
        "All readable images have features (58); 2 could not be read.")
    expect(page.locator("[data-features-percent]")).to_have_text("100%")
    expect(page.locator("[data-features-counts]")).to_have_text("10 / 10 images, 2 failed")
    retry = page.get_by_role("button", name="Retry failed (2)")
    expect(retry).to_be_enabled()

    with page.expect_request(lambda r: r.method == "POST" and "/api/v1/features/jobs/" in r.url):
        retry.click()
    # The job it started read 8 images and not the other 2: the toast counts each once.
    expect(toast(page, "warning", "Features generated for 8 images; 2 could not be read.")).to_be_visible()
