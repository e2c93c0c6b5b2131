"""Small helpers of the browser tests: signing in, test images, API calls, waiting on the page."""

import base64
import io
import itertools
import os
import time
from pathlib import Path
from urllib.parse import quote

from PIL import Image as PILImage
from playwright.sync_api import FormData, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.server import ARTIFACTS, PASSWORD

_serial = itertools.count(1)


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def sign_in(page: Page, username: str, password: str = PASSWORD, *, next_path: str = "/") -> None:
    """Sign in through the sign-in form, as a person does (the answer is not waited for)."""
    page.goto(f"/accounts/sign-in/?next={quote(next_path)}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def csrf(page: Page) -> dict:
    """The header a change made with the page's session needs, as the page's own code sends it."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    return {"X-CSRFToken": token}


def image_bytes(fmt: str = "PNG", size=(120, 90)) -> bytes:
    """A picture no other call makes: a colour gradient, with random pixels as a signature."""
    n = next(_serial)
    base = ((n * 67) % 200 + 30, (n * 131) % 200 + 30, (n * 29) % 200 + 30)
    picture = PILImage.new("RGB", size, base)
    for x in range(size[0]):
        for y in range(size[1] // 2, size[1]):
            picture.putpixel((x, y), tuple(min(255, c + x // 2) for c in base))
    for x, value in enumerate(os.urandom(12)):
        picture.putpixel((x, 0), (value, value, value))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def image_files(folder: Path, names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        path = folder / name
        fmt = {"jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "bmp": "BMP", "webp": "WEBP"}.get(
            name.rsplit(".", 1)[-1].lower(), "PNG")
        path.write_bytes(image_bytes(fmt))
        paths.append(path)
    return paths


def upload_via_api(page: Page, count: int, prefix: str) -> list[dict]:
    """Add ``count`` images through the API (100 per request, the server's limit)."""
    images = []
    for start in range(0, count, 100):
        form = FormData()
        for i in range(start, min(count, start + 100)):
            form.append("file", {"name": f"{prefix}-{i:04d}.png", "mimeType": "image/png",
                                 "buffer": image_bytes(size=(32, 32))})
        response = page.request.post("/api/v1/images/", multipart=form, headers=csrf(page))
        assert response.status == 201, response.text()
        images += [result["image"] for result in response.json()["results"]]
    return images


def api_images(page: Page, **params) -> dict:
    response = page.request.get("/api/v1/images/", params=params)
    assert response.status == 200, response.text()
    return response.json()


def feature_status(page: Page) -> dict:
    response = page.request.get("/api/v1/features/status/")
    assert response.status == 200, response.text()
    return response.json()


def wait_for_features(page: Page, timeout: float = 60) -> dict:
    """Start generation if any image lacks a vector, and wait until none does."""
    deadline = time.monotonic() + timeout
    started = False
    while time.monotonic() < deadline:
        status = feature_status(page)
        active = status["job"] and status["job"]["state"] in ("queued", "running")
        if not active and status["counts"]["pending"] == 0:
            return status
        if not active and not started:
            response = page.request.post("/api/v1/features/jobs/", headers=csrf(page))
            assert response.status in (200, 202), response.text()
            started = True
        time.sleep(0.3)
    raise AssertionError(f"Features were not ready in {timeout} s: {feature_status(page)}")


def tile(page: Page, name: str):
    return page.locator(f'.tile[data-name="{name}"]')


def toast(page: Page, kind: str, text: str):
    return page.locator(f".toast--{kind}", has_text=text)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def settle(page: Page) -> None:
    """Wait (briefly) until the images in view have loaded, for a faithful screenshot."""
    try:
        page.wait_for_function("""() => [...document.images].filter((img) => {
            const box = img.getBoundingClientRect();
            return img.src && box.bottom > 0 && box.top < innerHeight && box.width > 0;
        }).every((img) => img.complete)""", timeout=3000)
    except PlaywrightTimeout:
        pass  # a screenshot with a missing image is still worth having
    page.wait_for_timeout(350)  # let transitions (the progress bar's width) finish


def snap(page: Page, name: str) -> None:
    """A screenshot of a moment inside a test (the fixture saves the last one)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def drop_files(page: Page, selector: str, files: list[Path]) -> None:
    """Drop files on an element, as a drag from the desktop does."""
    payload = [{"name": f.name, "data": base64.b64encode(f.read_bytes()).decode()} for f in files]
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name, { type: "image/png" }));
            }
            const zone = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
        }""",
        [selector, payload],
    )
