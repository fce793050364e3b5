"""Everything the platform writes comes out in the reader's language: Django's and
allauth's own messages (validation errors on the sign-up page), and every page each
role sees, in Simplified Chinese and in English."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import allauth
import django
import pytest
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import translation

from documents.models import Agreement
from documents.pki import load_platform_pki
from documents.services import agreements
from documents.views.verification import mask_name
from mediation.models import MediationCase, Party, User, WorkOrder
from mediation.notifications import KINDS, notify, render_email
from mediation.services import cases
from tests.cases import make_case
from tests.documents.test_agreements import draft, sign
from tests.factories import PASSWORD, UserFactory
from tests.languages import CJK, english_words, han_characters
from tests.security.conftest import court, court_files_in_use, module_files  # noqa: F401 (fixtures)
from tests.security.test_authorisation_matrix import RIGHTS, url_of
from tests.security.world import storages_at
from tests.test_translations import compiled_catalog, parse_po  # noqa: F401 (a fixture)
from tests.workflows import order_in_state, refer

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
def test_the_chinese_password_page_refuses_a_weak_password_in_chinese(client, password, compiled_catalog):  # noqa: F811
    # Sign-up is closed (invited people join with a code texted to them), so the
    # password validators speak on the password change page.
    client.force_login(UserFactory(full_name="王律师"))

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": password, "password2": password},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["password1"]
    assert errors
    for error in errors:
        assert CJK.search(error) and not english_words(error, []), error


# The crawl: every page each role sees, in both languages ------------------------------------

# Pages that are not the platform's words: JSON and files, the JavaScript catalogue,
# and the agreement's preview, which is the document itself (always in the document's
# language).
NOT_PAGES = {
    "javascript-catalog",
    "verify_ca",
    "api_schema",
    "figures_xlsx",
    "figures_after_seal_xlsx",
    "figures_cases_xlsx",
    "document_file",
    "power_of_attorney_file",
    "agreement_pdf",
    "court_document_pdf",
    "service_proof",
    "notification_count",
    "identity_check_evidence",
    "in_person_scan",
    "filing_package_pdf",
    "filing_package_json",
    "delegation_letter_pdf",
    "mediator_assessment_csv",
    "figures_cases_csv",
    "media_people",
}
# Pages outside the authorisation matrix's table: allauth's, and an unknown address.
OTHER_PAGES = [
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/accounts/password/reset/"),
    ("anonymous", "/accounts/signup/"),
    ("anonymous", "/no-such-page/"),
    ("plaintiff", "/accounts/password/change/"),
    ("plaintiff", "/accounts/email/"),
    ("plaintiff", "/no-such-page/"),
]
# The sealed agreement's pages (crawled_court), for its mediator.
SEALED_PAGES = ["agreement_detail", "agreement_sign"]
# Han characters an English page may hold besides data: the language switcher names
# Chinese in Chinese.
HAN_ALLOWED = ["简体中文"]
# Case numbers, "(2026)京0107民诉前调1号", are data in every language, also the ones an
# action makes and a form's example.
CASE_NUMBER = re.compile(r"[(（]\d{4}[)）][\u4e00-\u9fff]\d{4}[\u4e00-\u9fff]+\d+号")
# The settlement agreement's preview is the document itself, in the document's language
# whoever reads it.
DOCUMENT_PAGES = {"agreement_preview"}
# Model fields that hold codes, not people's words: a raw code on a page is a leak.
CODE_FIELDS = {"kind", "status", "action", "code", "side", "role", "channel", "category", "language", "slot"}
CODE = re.compile(r"^[a-z][a-z0-9_.\-]*$")
WORDS = re.compile(r"[A-Za-z\u4e00-\u9fff]")


class PageText(HTMLParser):
    """What a reader sees of a page: its text (not scripts or styles) and the words in
    attributes a screen reader or a hover shows. Text marked as another language
    (`lang`: the error pages' second language, the language switcher) is left out."""

    ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = language.split("-")[0].lower()
        self.parts: list[str] = []
        # Open elements whose text is left out: (tag, depth of that tag inside).
        self.skipped: list[list] = []

    def _other_language(self, values: dict) -> bool:
        lang = (values.get("lang") or "").split("-")[0].lower()
        return bool(lang) and lang != self.language

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if self.skipped and tag == self.skipped[-1][0] and tag not in self.VOID:
            self.skipped[-1][1] += 1
        elif tag in ("script", "style", "template") or self._other_language(values):
            if tag not in self.VOID:
                self.skipped.append([tag, 1])
            return
        if self.skipped:
            return
        self.parts.extend(values[name] for name in self.ATTRIBUTES if values.get(name))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if self.skipped and tag == self.skipped[-1][0]:
            self.skipped[-1][1] -= 1
            if not self.skipped[-1][1]:
                self.skipped.pop()

    def handle_data(self, data):
        if not self.skipped:
            self.parts.append(data)


def page_text(html: str, language: str) -> str:
    parser = PageText(language)
    parser.feed(html)
    return "\n".join(parser.parts)


def stored_words() -> list[str]:
    """Every string people or the builders put in the database (names, addresses,
    case numbers, titles, notes, message texts), to be taken out of the pages; codes
    (statuses, kinds, roles) stay, so that a raw code on a page is found."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            # Bare numbers are no words (and taking them out would cut hashes apart).
            if WORDS.search(value) and not CODE.match(value):
                found.add(value)
                found.update(line for line in value.splitlines() if line.strip())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for app in ("mediation", "documents", "rooms"):
        for model in apps.get_app_config(app).get_models():
            fields = [
                field.name
                for field in model._meta.concrete_fields
                if isinstance(field, (models.CharField, models.TextField, models.JSONField))
                and not field.choices
                and field.name not in CODE_FIELDS
                and not field.name.endswith(("hash", "token", "sha256", "password"))
            ]
            if fields:
                for row in model.objects.values_list(*fields):
                    walk(list(row))
    found.update(str(user) for user in User.objects.all())
    # The public verification page shows the parties' and signers' names masked.
    names = [*Party.objects.values_list("name", flat=True), *(str(user) for user in User.objects.all())]
    found.update(mask_name(name) for name in names)
    found.update([settings.COURT_NAME, settings.COURT_ADDRESS, settings.COURT_CONTACT_PHONE])
    return sorted(found, key=len, reverse=True)


def crawl_rows():
    for row in RIGHTS:
        if row.method != "GET" or row.json or row.name in NOT_PAGES or row.name.startswith("api_"):
            continue
        for role in sorted(row.allowed):
            if role == "anonymous" or row.name.startswith("admin:"):
                continue
            yield role, row


def fetch(world, role, url, language, query=None):
    with transaction.atomic():
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        if role != "anonymous":
            user = world.people[role]
            User.objects.filter(pk=user.pk).update(language=language)
            client.force_login(user)
        response = client.get(url, query or {}, follow=True)
        transaction.set_rollback(True)
    return response


def leaks_of(response, language, data) -> list[str]:
    content_type = response.get("Content-Type", "")
    body = response.content.decode()
    text = CASE_NUMBER.sub(" ", page_text(body, language) if content_type.startswith("text/html") else body)
    if language == "zh-hans":
        return sorted(set(english_words(text, data)))
    return sorted(set(han_characters(text, [*data, *HAN_ALLOWED])))


def sealed_agreement(people):
    """Case C's agreement, signed by all and sealed (the sealing runs after commit)."""
    world = make_case(people["mediator"], people["judge"], label="C", agent_authority=True)
    agreement = draft(world)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    sign(agreement, world.mediator)
    sign(agreement, world.plaintiff, world.plaintiff_participant.party)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sign(agreement, world.defendant, world.defendant_participant.party, method="typed")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SEALED
    return agreement


@pytest.fixture(scope="module")
def crawled_court(court, django_db_blocker, module_files, _platform_keys):  # noqa: F811
    """The matrix's court (its case in mediation with a session running, documents
    served, the agreement locked for signing), and besides: a referred order whose case
    settled (the outcome on the order's timeline and in its notices), and a notice of
    every kind to the people who read them, and a sealed agreement."""
    with django_db_blocker.unblock(), override_settings(STORAGES=storages_at(module_files), **_platform_keys):
        people = court.people
        load_platform_pki.cache_clear()
        court.sealed = sealed_agreement(people)
        load_platform_pki.cache_clear()
        order = order_in_state(
            WorkOrder.Status.IN_PROGRESS,
            {
                "liaison": people["general_liaison"],
                "dept_liaison": people["department_liaison"],
                "judge": people["judge"],
            },
            requester_name="Wang Requester",
        )
        referred = refer(order, people["judge"], people["other_mediator"])
        cases.start_mediation(case=referred, actor=people["other_mediator"])
        cases.settle_case(case=referred, actor=people["other_mediator"], note="Both sides agreed.")
        params = {
            "number": order.number,
            "case": referred.number,
            "department": court.civil.name,
            "reason": "Not ours",
            "due": "2026-12-08 09:00",
            "outcome": MediationCase.Status.SETTLED,
            "requester": "Wang Requester",
            "phone": "13800000000",
            "name": str(people["defendant"]),
            "starts": "2026-12-08 09:00",
            # An obligation's (documents.services.performance): its term, days overdue.
            "term": "2",
            "case_number": "(2026)京0107民特1号",
            "count": "1",
            "date": "2026-12-31",
            "days": "7",
            # A delegation's (mediation.services.delegation): the organisation, the time
            # to accept, why it came back (a code).
            "organisation": "Chaoyang Mediation Committee",
            "accept_by": "2026-12-10 23:59",
            "return_reason": "declined_by_mediator",
        }
        for kind in KINDS:
            notify(
                recipients=[people[role] for role in ("plaintiff", "mediator", "general_liaison", "judge")],
                kind=kind,
                params=params,
                url="/",
                email=False,
            )
    return court


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_speaks_only_the_readers_language(crawled_court, court_files_in_use, language, compiled_catalog):  # noqa: F811
    world = crawled_court
    data = stored_words()
    leaks = {}
    pages = [
        (role, url_of(row, world), row.query, row.label)
        for role, row in crawl_rows()
        if not (language == "en" and row.name in DOCUMENT_PAGES)
    ]
    pages += [(role, url, {}, url) for role, url in OTHER_PAGES]
    pages += [("mediator", reverse(name, args=[world.sealed.pk]), {}, f"{name} [sealed]") for name in SEALED_PAGES]
    pages += [("anonymous", reverse("verify_record", args=[world.sealed.verification_code]), {}, "verify [sealed]")]
    for role, url, query, label in pages:
        response = fetch(world, role, url, language, query)
        assert response.status_code in (200, 404), f"{label} as {role}: {response.status_code}"
        found = leaks_of(response, language, data)
        if found:
            leaks[f"{label} as {role}"] = found
    assert not leaks, "\n" + "\n".join(f"{page}: {words}" for page, words in leaks.items())


def posted_rows():
    """Each page action of the matrix, once, by the first role it allows."""
    for row in RIGHTS:
        if row.method != "POST" or row.json or row.name.startswith("api_") or row.name == "set_language":
            continue
        if row.name.startswith("media_"):
            # The room's media endpoints answer JSON (codes and a message); the
            # message's language is tested with them (tests/media/test_views.py).
            continue
        roles = sorted(row.allowed - {"anonymous"})
        if roles:
            yield roles[0], row


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_action_answers_in_the_readers_language(crawled_court, court_files_in_use, language, compiled_catalog):  # noqa: F811
    """What a page action shows next, its flash message or its form's errors, with the
    matrix's data and with nothing filled in."""
    world = crawled_court
    data = stored_words()
    leaks = {}
    for role, row in posted_rows():
        for variant, body in (("filled in", row.data(world)), ("empty", {})):
            with transaction.atomic():
                client = Client(HTTP_ACCEPT_LANGUAGE=language)
                user = world.people[role]
                User.objects.filter(pk=user.pk).update(language=language)
                client.force_login(user)
                response = client.post(url_of(row, world), body, follow=True)
                transaction.set_rollback(True)
            assert response.status_code < 500, f"{row.label} ({variant}) as {role}"
            found = leaks_of(response, language, [*data, *map(str, body.values())])
            if found:
                leaks[f"{row.label} ({variant}) as {role}"] = found
    assert not leaks, "\n" + "\n".join(f"{page}: {words}" for page, words in leaks.items())


# Mail ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_notification_mail_speaks_only_the_readers_language(language, compiled_catalog):  # noqa: F811
    reader = UserFactory(full_name="Wang Xiulan", email="wang.xiulan@example.test", language=language)
    params = {
        "number": "GD-2026-000123",
        "case": "(2026)京0107民诉前调1号",
        "department": "Second civil division",
        "reason": "Not ours",
        "due": "2026-12-08 09:00",
        "outcome": MediationCase.Status.SETTLED,
        "requester": "Wang Requester",
        "phone": "13800000000",
        "name": "Li Ming",
        "starts": "2026-12-08 09:00",
        "term": "2",
        "case_number": "(2026)京0107民特1号",
        "count": "1",
        "date": "2026-12-31",
        "days": "7",
        "organisation": "Chaoyang Mediation Committee",
        "accept_by": "2026-12-10 23:59",
        "return_reason": "declined_by_mediator",
    }
    data = [
        *params.values(),
        str(reader),
        reader.email,
        settings.COURT_NAME,
        settings.COURT_ADDRESS,
        settings.COURT_CONTACT_PHONE,
        settings.SITE_URL,
    ]
    leaks = {}
    for kind in KINDS:
        subject, body = render_email(reader, kind, params, "/cases/7/")
        text = f"{subject}\n{body}"
        found = english_words(text, data) if language == "zh-hans" else han_characters(text, data)
        if found:
            leaks[kind] = sorted(set(found))
    assert not leaks, leaks
