"""The visible part of a signature: the drawn (or typed) signature with the signer's
name and the time, and the court's seal where the platform seals, as images. An image
keeps signing fast; CJK text drawn by the PDF library would need a font subset per
signature."""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import subprocess

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
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


SEAL_SIZE = 600
SEAL_RED = (200, 22, 29, 255)


def _star(centre: tuple[float, float], radius: float) -> list[tuple[float, float]]:
    """The points of a five-pointed star, one point up."""
    points = []
    for index in range(10):
        reach = radius if index % 2 == 0 else radius * 0.382
        angle = math.pi / 5 * index
        points.append((centre[0] + reach * math.sin(angle), centre[1] - reach * math.cos(angle)))
    return points


def _character(char: str, font: ImageFont.FreeTypeFont, angle: float) -> Image.Image:
    """One character of the arc, upright, then turned `angle` degrees clockwise."""
    left, top, right, bottom = font.getbbox(char)
    glyph = Image.new("RGBA", (right - left + 8, bottom - top + 8), (255, 255, 255, 0))
    ImageDraw.Draw(glyph).text((4 - left, 4 - top), char, font=font, fill=SEAL_RED)
    return glyph.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)


def drawn_seal(name: str, label: str) -> Image.Image:
    """A seal as Chinese courts and mediation organisations use: a red ring, a
    five-pointed star in the centre, the organisation's name around the upper arc and
    `label` beneath the star."""
    size = SEAL_SIZE
    centre = size / 2
    seal = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(seal)
    draw.ellipse((12, 12, size - 12, size - 12), outline=SEAL_RED, width=16)
    draw.polygon(_star((centre, centre), 88), fill=SEAL_RED)
    # The name runs clockwise over the top, centred on it: a longer name takes a wider
    # arc (up to 250 degrees) and smaller characters.
    characters = [char for char in name if not char.isspace()] or ["·"]
    span = min(250.0, 24.0 * len(characters))
    font_size = max(28, min(76, int(2 * math.pi * 215 * span / 360 / len(characters) * 0.95)))
    font = _font("Noto Serif CJK SC:bold", font_size)
    radius = centre - 40 - font_size / 2
    step = span / len(characters)
    for index, char in enumerate(characters):
        angle = -span / 2 + step * (index + 0.5)
        glyph = _character(char, font, angle)
        x = centre + radius * math.sin(math.radians(angle))
        y = centre - radius * math.cos(math.radians(angle))
        seal.alpha_composite(glyph, (int(x - glyph.width / 2), int(y - glyph.height / 2)))
    label_font = _font("Noto Serif CJK SC:bold", 46)
    while label_font.size > 20 and draw.textlength(label, font=label_font) > size * 0.56:
        label_font = _font("Noto Serif CJK SC:bold", label_font.size - 4)
    width = draw.textlength(label, font=label_font)
    draw.text((centre - width / 2, centre + 112), label, font=label_font, fill=SEAL_RED)
    return seal


def configured_seal_image(path: str) -> Image.Image:
    """An operator's own seal image (COURT_SEAL_IMAGE): a PNG, ideally with a
    transparent background, read from the server's disk."""
    try:
        image = Image.open(path)
        image.load()
    except (OSError, UnidentifiedImageError) as error:
        raise ImproperlyConfigured(f"COURT_SEAL_IMAGE {path!r} is not a readable image: {error}") from error
    return image.convert("RGBA")


def court_seal(label: str) -> Image.Image:
    """The seal image shown where the platform applies its digital seal: the image
    configured in COURT_SEAL_IMAGE, or else one drawn from COURT_NAME and `label`.
    Made on the server; nothing is fetched."""
    if settings.COURT_SEAL_IMAGE:
        return _configured_seal(settings.COURT_SEAL_IMAGE).copy()
    return _drawn_seal(settings.COURT_NAME, label).copy()


@functools.lru_cache(maxsize=4)
def _configured_seal(path: str) -> Image.Image:
    return configured_seal_image(path)


@functools.lru_cache(maxsize=8)
def _drawn_seal(name: str, label: str) -> Image.Image:
    return drawn_seal(name, label)


# The paper signer's box in a sealed agreement (documents.paper_box): text only, at
# twice the signature stamp's resolution so small lines stay legible when printed.
TEXT_STAMP_SIZE = (1200, 480)
TEXT_STAMP_INK = (20, 30, 90, 255)


def text_stamp(heading: str, lines: list[str]) -> Image.Image:
    """A framed block of text for a signature field: `heading` in bold, then `lines`,
    each shrunk to fit the width. Made on the server, in the fonts the system ships."""
    width, height = TEXT_STAMP_SIZE
    stamp = Image.new("RGBA", TEXT_STAMP_SIZE, (255, 255, 255, 0))
    draw = ImageDraw.Draw(stamp)
    draw.rectangle((4, 4, width - 5, height - 5), outline=TEXT_STAMP_INK, width=6)
    rows = [(heading, "Noto Sans CJK SC:bold", 80)] + [(line, "Noto Sans CJK SC", 56) for line in lines]
    step = (height - 40) / len(rows)
    for index, (text, pattern, size) in enumerate(rows):
        size = min(size, int(step * 0.8))
        font = _font(pattern, size)
        while size > 20 and draw.textlength(text, font=font) > width - 60:
            size -= 2
            font = _font(pattern, size)
        draw.text((30, 20 + index * step + (step - size) / 2), text, font=font, fill=TEXT_STAMP_INK)
    return stamp
