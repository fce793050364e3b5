"""The platform's SMS templates: a code and its wording, with %(name)s parameters.

Each code is what a provider registers as a template (Alibaba Cloud's SMS_…, Tencent
Cloud's numeric id, mapped in settings); the wording here is what the message says,
kept translatable so that the text stored for the record is in the recipient's
language. Parameters are short values (a code, a number, a date), as carriers require.
Other apps add theirs with `register`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TEMPLATES = {
    "verification_code": _(
        "Your verification code is %(code)s. It is valid for %(minutes)s minutes. Do not tell it to anyone."
    ),
}


def register(code: str, wording) -> None:
    TEMPLATES[code] = wording


def render(code: str, params: dict) -> str:
    """The template's text with its parameters, in the active language."""
    return str(TEMPLATES[code]) % params
