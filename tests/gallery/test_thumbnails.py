"""Thumbnails are upright, fit in 200x200 and have no transparency."""

import io

from PIL import Image as PILImage

from gallery.thumbnails import make_thumbnail


def open_thumbnail(data: bytes) -> PILImage.Image:
    return PILImage.open(io.BytesIO(make_thumbnail(data)))


def test_it_applies_the_exif_orientation():
    picture = PILImage.new("RGB", (400, 100), "red")
    exif = picture.getexif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)

    assert open_thumbnail(out.getvalue()).size == (50, 200)


def test_it_puts_transparent_pixels_on_white():
    out = io.BytesIO()
    PILImage.new("RGBA", (300, 300), (0, 0, 0, 0)).save(out, "PNG")

    thumbnail = open_thumbnail(out.getvalue())

    assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("JPEG", "RGB", (200, 200))
    assert all(channel > 245 for channel in thumbnail.getpixel((100, 100)))


def test_it_keeps_small_images_at_their_size():
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), "blue").save(out, "GIF")

    assert open_thumbnail(out.getvalue()).size == (40, 30)
