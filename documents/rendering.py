"""Legal documents as PDF: WeasyPrint renders the `frontend` templates, A4, typeset in
Noto Serif CJK SC from the system's fonts (nothing is fetched at run time)."""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

# CSS pixels to PDF points.
PX_TO_PT = 0.75
A4_HEIGHT_PT = 841.89

_local = threading.local()


def _font_config() -> FontConfiguration:
    # Loading the CJK fonts is the slow part of a render; keep one configuration per
    # thread (WeasyPrint's is not shared between threads).
    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def verification_url(code: str) -> str:
    return settings.SITE_URL + reverse("verify_record", args=[code])


def qr_data_uri(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=1, xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(frozen=True)
class SlotBox:
    """Where a signature goes: page index and rectangle in PDF points."""

    slot: str
    page: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    slots: list[SlotBox]


def render_pdf(template: str, context: dict, *, slot_prefix: str = "slot-") -> RenderedPdf:
    """Render a template to PDF in the court's document language and report where the
    elements whose id starts with `slot_prefix` ended up, for signature fields."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        html = render_to_string(template, context)
        document = HTML(string=html, base_url=str(settings.BASE_DIR)).render(font_config=_font_config())
        pdf = document.write_pdf()
    slots = []
    for index, page in enumerate(document.pages):
        for anchor, (left, top, right, bottom) in page.anchors.items():
            if anchor.startswith(slot_prefix):
                slots.append(
                    SlotBox(
                        slot=anchor[len(slot_prefix) :],
                        page=index,
                        box=(
                            left * PX_TO_PT,
                            A4_HEIGHT_PT - bottom * PX_TO_PT,
                            right * PX_TO_PT,
                            A4_HEIGHT_PT - top * PX_TO_PT,
                        ),
                    )
                )
    return RenderedPdf(pdf=pdf, slots=slots)


def document_context(**extra) -> dict:
    return {"court_name": settings.COURT_NAME, **extra}
