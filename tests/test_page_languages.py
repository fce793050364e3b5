"""Everything the platform writes comes out in the reader's language: Django's and
allauth's own messages (validation errors on the sign-up page), and every page each
role sees, in Simplified Chinese and in English."""

from __future__ import annotations

from pathlib import Path

import allauth
import django
import pytest
from django.urls import reverse
from django.utils import translation

from tests.cases import make_case
from tests.languages import CJK, english_words
from tests.mediation.test_invitations import INVITED_EMAIL, invitation_path, invite
from tests.test_translations import compiled_catalog, parse_po  # noqa: F401 (a fixture)

# The packages whose own messages reach our pages: form and model validation, the
# password validators, allauth's sign-in, sign-up and password pages, the operator's admin.
PACKAGE_LOCALES = {
    "django": Path(django.__file__).parent / "conf" / "locale",
    "django.contrib.auth": Path(django.__file__).parent / "contrib" / "auth" / "locale",
    "django.contrib.admin": Path(django.__file__).parent / "contrib" / "admin" / "locale",
    "allauth": Path(allauth.__file__).parent / "locale",
}


def translated(entry) -> str:
    if entry.msgid_plural:
        if entry.msgctxt:
            return translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
        return translation.ngettext(entry.msgid, entry.msgid_plural, 1)
    if entry.msgctxt:
        return translation.pgettext(entry.msgctxt, entry.msgid)
    return translation.gettext(entry.msgid)


@pytest.mark.parametrize("package", PACKAGE_LOCALES)
def test_every_message_of_the_packages_we_serve_is_chinese(package, compiled_catalog):  # noqa: F811
    """A package's message whose msgid changed upstream while its zh_Hans catalogue kept
    the old one shows in English on a Chinese page ("This password is too short…" on the
    sign-up page); our catalogue fills the gap (config/translation_gaps.py)."""
    locale = PACKAGE_LOCALES[package]
    english = [entry for entry in parse_po(locale / "en" / "LC_MESSAGES" / "django.po") if entry.msgid]
    # Entries the package's translators kept as they are ("IPv4", "%s KB", "AM").
    kept = {
        (entry.msgctxt, entry.msgid)
        for entry in parse_po(locale / "zh_Hans" / "LC_MESSAGES" / "django.po")
        if entry.msgid and any(entry.msgstr.values())
    }
    with translation.override("zh-hans"):
        untranslated = [
            entry.msgid
            for entry in english
            if translated(entry) == entry.msgid and (entry.msgctxt, entry.msgid) not in kept
        ]
    assert not untranslated, f"{package}: {untranslated}"


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["Ab1-x", "password", "20261207123"])
def test_the_chinese_sign_up_page_refuses_a_weak_password_in_chinese(client, people, password, compiled_catalog):  # noqa: F811
    world = make_case(people["mediator"], people["judge"])
    token = invite(client, world, world.case.parties.get(side="plaintiff"))
    client.get(invitation_path(token), HTTP_ACCEPT_LANGUAGE="zh-hans")

    response = client.post(
        reverse("account_signup"),
        {"email": INVITED_EMAIL, "password1": password, "password2": password, "full_name": "王律师"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["password1"]
    assert errors
    for error in errors:
        assert CJK.search(error) and not english_words(error, []), error
