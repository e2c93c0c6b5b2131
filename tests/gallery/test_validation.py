"""The upload checks, one bad input at a time."""

import io
import struct
import zlib

import pytest
from PIL import Image as PILImage

from core.errors import InvalidInput, TooLarge
from gallery.validation import check_image
from tests.helpers import make_image_bytes


@pytest.mark.parametrize("fmt,name", [
    ("JPEG", "a.jpg"), ("JPEG", "a.JPEG"), ("PNG", "a.png"), ("GIF", "a.gif"),
    ("BMP", "a.bmp"), ("WEBP", "a.webp"),
])
def test_it_accepts_every_supported_format(fmt, name):
    checked = check_image(make_image_bytes(fmt, size=(30, 20)), name=name)
    assert (checked.format, checked.width, checked.height) == (fmt, 30, 20)
    assert len(checked.sha256) == 64


def test_it_rejects_an_empty_file():
    with pytest.raises(InvalidInput, match="empty") as error:
        check_image(b"", name="a.jpg")
    assert error.value.code == "empty"


def test_it_rejects_a_text_file_named_like_an_image():
    with pytest.raises(InvalidInput, match="not an image") as error:
        check_image(b"hello, I am text" * 10, name="a.jpg")
    assert error.value.code == "not_an_image"


def test_it_rejects_an_unsupported_extension():
    with pytest.raises(InvalidInput, match=r"Unsupported file type \.exe"):
        check_image(make_image_bytes(), name="setup.exe")


def test_it_rejects_a_file_without_extension():
    with pytest.raises(InvalidInput, match=r"\(no extension\)"):
        check_image(make_image_bytes(), name="photo")


def test_it_rejects_a_png_renamed_to_jpg():
    with pytest.raises(InvalidInput, match="named .jpg but its content is PNG") as error:
        check_image(make_image_bytes("PNG"), name="photo.jpg")
    assert error.value.code == "extension_mismatch"


def test_it_rejects_a_truncated_jpeg():
    data = make_image_bytes("JPEG", size=(400, 300))
    with pytest.raises(InvalidInput, match="corrupt or truncated") as error:
        check_image(data[: len(data) // 2], name="a.jpg")
    assert error.value.code == "corrupt_image"


def test_it_rejects_an_unsupported_image_format():
    out = io.BytesIO()
    PILImage.new("RGB", (10, 10)).save(out, "TIFF")
    with pytest.raises(InvalidInput, match="TIFF images are not supported"):
        check_image(out.getvalue(), name="a.png")


def test_it_rejects_a_file_over_the_size_limit(settings):
    settings.IMAGESIM_MAX_UPLOAD_BYTES = 2**20
    with pytest.raises(TooLarge, match="The file is larger than the 1 MB limit."):
        check_image(make_image_bytes("BMP", size=(1000, 400)), name="a.bmp")


def png_header_only(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG that claims a huge size but holds almost no data: a decompression bomb."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def test_it_rejects_a_decompression_bomb_before_decoding_it_and_says_its_size():
    with pytest.raises(TooLarge) as error:
        check_image(png_header_only(100_000, 100_000), name="bomb.png")
    assert error.value.code == "too_many_pixels"
    assert error.value.message == (
        "The image has 10,000,000,000 pixels; the limit is 50,000,000 pixels.")


def test_it_says_the_size_and_the_limit_of_an_image_just_over_pillows_own_limit():
    # 10,000 x 9,000 is over Pillow's 89 million pixel warning and under twice that.
    with pytest.raises(TooLarge) as error:
        check_image(png_header_only(10_000, 9_000), name="large.png")
    assert error.value.message == "The image is 10000x9000 pixels; the limit is 50,000,000 pixels."


def test_it_lets_the_configured_limit_decide_above_pillows_own(settings):
    settings.IMAGESIM_MAX_IMAGE_PIXELS = 100_000_000
    # Allowed by the setting: the header passes, and decoding the fake body fails instead
    # (black and white, one bit a pixel: the decoder's buffer stays at 11 MB).
    with pytest.raises(InvalidInput) as error:
        check_image(png_header_only(10_000, 9_000, bit_depth=1, colour_type=0), name="large.png")
    assert error.value.code == "corrupt_image"


def test_it_rejects_an_image_over_the_pixel_limit(settings):
    settings.IMAGESIM_MAX_IMAGE_PIXELS = 100
    with pytest.raises(TooLarge, match="20x20 pixels; the limit is 100 pixels"):
        check_image(make_image_bytes(size=(20, 20)), name="a.jpg")


def test_it_reports_the_size_as_displayed_after_exif_rotation():
    picture = PILImage.new("RGB", (60, 20), "red")
    exif = picture.getexif()
    exif[0x0112] = 6  # rotated 90 degrees: shown as 20 wide, 60 high
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    checked = check_image(out.getvalue(), name="rotated.jpg")
    assert (checked.width, checked.height) == (20, 60)
