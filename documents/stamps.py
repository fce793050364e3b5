"""The visible part of a signature: the drawn (or typed) signature with the signer's
name and the time, as an image. An image keeps signing fast; CJK text drawn by the
PDF library would need a font subset per signature."""

from __future__ import annotations

import datetime as dt
import functools
import io
import subprocess

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

STAMP_SIZE = (600, 240)
MAX_SIGNATURE_IMAGE_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = 4000 * 2000


@functools.cache
def _font_file(pattern: str) -> tuple[str, int]:
    """The system font file for a fontconfig pattern (the platform ships no fonts of
    its own: fonts-noto-cjk is a system package)."""
    result = subprocess.run(["fc-match", "-f", "%{file}:%{index}", pattern], capture_output=True, text=True, check=True)
    path, _sep, index = result.stdout.rpartition(":")
    return path, int(index or 0)


def _font(pattern: str, size: int) -> ImageFont.FreeTypeFont:
    path, index = _font_file(pattern)
    return ImageFont.truetype(path, size, index=index)


def load_signature_image(data: bytes) -> Image.Image:
    """A drawn signature as uploaded from the canvas: a PNG of sensible size."""
    if not data or len(data) > MAX_SIGNATURE_IMAGE_BYTES:
        raise ValidationError({"signature": _("Draw your signature again (the drawing is empty or too large).")})
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG" or image.width * image.height > MAX_SIGNATURE_PIXELS:
            raise ValidationError({"signature": _("Draw your signature again.")})
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise ValidationError({"signature": _("Draw your signature again.")}) from error
    image = image.convert("RGBA")
    if image.getbbox() is None or image.getchannel("A").getbbox() is None:
        raise ValidationError({"signature": _("The signature is empty: draw it, or type your name instead.")})
    return image


def typed_signature(name: str) -> bytes:
    image = Image.new("RGBA", (600, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.text((20, 30), name, font=_font("Noto Serif CJK SC:bold", 84), fill=(20, 30, 90, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def signature_stamp(drawn_png: bytes, *, name: str, signed_at: dt.datetime) -> Image.Image:
    drawn = load_signature_image(drawn_png)
    bbox = drawn.getchannel("A").getbbox() or drawn.getbbox()
    drawn = drawn.crop(bbox)
    stamp = Image.new("RGBA", STAMP_SIZE, (255, 255, 255, 0))
    area = (STAMP_SIZE[0] - 20, STAMP_SIZE[1] - 70)
    drawn.thumbnail(area)
    stamp.alpha_composite(drawn, ((STAMP_SIZE[0] - drawn.width) // 2, max(0, (area[1] - drawn.height) // 2)))
    label = f"{name}  {timezone.localtime(signed_at):%Y-%m-%d %H:%M:%S}"
    draw = ImageDraw.Draw(stamp)
    size = 30
    font = _font("Noto Sans CJK SC", size)
    while size > 14 and draw.textlength(label, font=font) > STAMP_SIZE[0] - 20:
        size -= 2
        font = _font("Noto Sans CJK SC", size)
    draw.text((10, STAMP_SIZE[1] - 52), label, font=font, fill=(0, 0, 0, 255))
    return stamp
