"""Settlement agreements: drafting from structured terms, preview, locking, versions,
declining, every refused signing, what is recorded per signature, and sealing once
(even when retried, and after a crash between the last signature and the seal).

Rendering and signing PDFs is slow, so the agreements that tests only read or try to
change are built once for the module, inside a transaction rolled back at its end;
every test runs in a savepoint of it, so whatever a test changes is undone."""

import datetime as dt
import io
import re
import time
from contextlib import contextmanager

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from cryptography import x509
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader

from documents.models import Agreement, AgreementVersion, Blob, Signature
from documents.pki import load_platform_pki
from documents.reauthentication import Reauthentication
from documents.selectors import agreements_waiting_for_seal
from documents.services import agreements
from documents.services.agreement_content import content_hash
from documents.services.storage import read_blob
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, MediationCase, Notification, Party, PhoneCode, SmsMessage
from mediation.roles import Role
from mediation.services import cases
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.factories import PASSWORD, DepartmentFactory, UserFactory, staff
from tests.locks import tables_locked

pytestmark = pytest.mark.django_db

IP = "203.0.113.20"
USER_AGENT = "Mozilla/5.0 (test) MediationApp/1.0"


# Building agreements ----------------------------------------------------------------------


def payment_term(world, **changes) -> dict:
    return {
        "kind": "payment",
        "obligor": world.defendant_participant.party_id,
        "obligee": world.plaintiff_participant.party_id,
        "amount": "500000",
        "method": "银行转账",
        "due_date": "2026-12-31",
        **changes,
    }


def draft(world, *, terms=None) -> Agreement:
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[payment_term(world)] if terms is None else terms,
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    return fresh(agreement)


def fresh(agreement) -> Agreement:
    return Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)


def drawn_signature() -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 180), (200, 60), (320, 170), (560, 50)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sign(agreement, user, party=None, *, password=PASSWORD, totp="", version_hash=None, method="drawn"):
    agreement = fresh(agreement)
    return agreements.sign_agreement(
        agreement=agreement,
        actor=user,
        version_hash=agreement.current_version.content_hash if version_hash is None else version_hash,
        party=party,
        method=method,
        image_png=drawn_signature() if method == "drawn" else None,
        reauthentication=Reauthentication(password=password, totp_code=totp),
        ip=IP,
        user_agent=USER_AGENT,
    )


def plaintiff_party(world):
    return world.plaintiff_participant.party


def defendant_party(world):
    return world.defendant_participant.party


# Module-wide agreements ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("agreement-files")


def storages_at(location) -> dict:
    return {
        **django_settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


@pytest.fixture(autouse=True)
def _module_files(settings, _isolated_files_and_keys, module_files):
    """Every test of this module reads and writes the module's files."""
    settings.STORAGES = storages_at(module_files)


@contextmanager
def module_transaction(django_db_blocker):
    """A transaction that stays open for the module and is rolled back at its end;
    each test's own transaction becomes a savepoint in it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@contextmanager
def building(django_db_blocker, module_files, platform_keys):
    """Database access, the module's files and the run's signing keys while the module
    fixture builds."""
    with django_db_blocker.unblock(), override_settings(STORAGES=storages_at(module_files), **platform_keys):
        load_platform_pki.cache_clear()
        try:
            yield
        finally:
            load_platform_pki.cache_clear()


class Built:
    """What the module fixture made, by name."""


def build(things: Built) -> None:
    department = DepartmentFactory(name="Civil", code="civil-agreements")
    mediator = staff(Role.MEDIATOR, department, full_name="刘洋")
    judge = staff(Role.JUDGE, department, full_name="张伟")
    # Locked, nobody has signed.
    things.locked_world = make_case(mediator, judge, label="L", agent_authority=True)
    things.locked = draft(things.locked_world)
    agreements.lock_agreement(agreement=things.locked, actor=mediator)
    # Locked and signed by the mediator only.
    things.signing_world = make_case(mediator, judge, label="S", agent_authority=True)
    things.signing = draft(things.signing_world)
    agreements.lock_agreement(agreement=things.signing, actor=mediator)
    sign(things.signing, mediator)
    # Signed by everyone, but the sealing after commit crashed once.
    world = things.crashed_world = make_case(mediator, judge, label="C", agent_authority=True)
    things.crashed = draft(world)
    agreements.lock_agreement(agreement=things.crashed, actor=mediator)
    things.crashes = []
    real_timestamp = agreements.document_timestamp

    def crash_once(pdf):
        if not things.crashes:
            things.crashes.append("document_timestamp")
            raise OSError("the timestamping key is unreachable")
        return real_timestamp(pdf)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agreements, "document_timestamp", crash_once)
        sign(things.crashed, mediator)
        sign(things.crashed, world.plaintiff, plaintiff_party(world))
        # The last signature's commit runs the sealing, which fails once.
        with TestCase.captureOnCommitCallbacks(execute=True):
            sign(things.crashed, world.defendant, defendant_party(world), method="typed")


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, module_files, _platform_keys):
    things = Built()
    with module_transaction(django_db_blocker):
        with building(django_db_blocker, module_files, _platform_keys):
            build(things)
        yield things


def snapshot(agreement) -> tuple:
    agreement = fresh(agreement)
    version = agreement.current_version
    return (
        Signature.objects.count(),
        Signature.objects.filter(voided_at__isnull=True).count(),
        Blob.objects.count(),
        agreement.status,
        version.pk,
        version.status,
        version.latest_blob_id,
        AgreementVersion.objects.filter(agreement=agreement).count(),
    )


# Drafting ---------------------------------------------------------------------------------


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


def test_the_mediator_drafts_from_structured_terms(world):
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    assert agreements.start_agreement(case=world.case, actor=world.mediator) == agreement

    version = agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="  事实  ",
        terms=[
            payment_term(world, amount="500000.5"),
            {
                "kind": "act",
                "obligor": plaintiff_party(world).pk,
                "obligee": defendant_party(world).pk,
                "act": "交付视频母带",
                "due_date": "",
            },
        ],
        costs="调解不收费。",
        effectiveness="签章后生效。",
        judicial_confirmation=False,
    )

    assert version.number == 1
    assert version.content["facts"] == "事实"
    assert version.content["terms"][0] == {
        "kind": "payment",
        "obligor": defendant_party(world).pk,
        "obligee": plaintiff_party(world).pk,
        "amount": "500000.50",
        "method": "银行转账",
        "due_date": "2026-12-31",
    }
    assert version.content["terms"][1]["act"] == "交付视频母带"
    assert version.content["judicial_confirmation"] is False
    assert (fresh(agreement).status, version.status, version.content_hash) == ("draft", "draft", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": ""}, "give the amount"),
        ({"amount": "-5"}, "give the amount"),
        ({"amount": "lots"}, "give the amount"),
        ({"amount": "NaN"}, "give the amount"),
        ({"amount": "Infinity"}, "give the amount"),
        ({"due_date": ""}, "give the due date"),
        ({"due_date": "2026-02-30"}, "give the due date"),
        ({"obligee": "same"}, "two different parties"),
        ({"obligor": 999999}, "two different parties"),
        ({"kind": "gift"}, "choose a payment or an act"),
    ],
)
def test_a_term_with_a_missing_or_wrong_field_is_refused_and_changes_nothing(world, change, message):
    agreement = draft(world)
    before = dict(agreement.current_version.content)
    if change.get("obligee") == "same":
        change = {"obligee": defendant_party(world).pk}

    with pytest.raises(ValidationError) as refused:
        agreements.update_draft(
            agreement=agreement,
            actor=world.mediator,
            facts="changed",
            terms=[payment_term(world, **change)],
            costs="",
            effectiveness="",
            judicial_confirmation=True,
        )

    assert any(message in problem for problem in refused.value.message_dict["terms"])
    assert "Term 1" in refused.value.message_dict["terms"][0]
    assert fresh(agreement).current_version.content == before


def test_an_act_needs_a_description(world):
    agreement = draft(world)
    act = {"kind": "act", "obligor": plaintiff_party(world).pk, "obligee": defendant_party(world).pk, "act": " "}
    with pytest.raises(ValidationError, match="describe what is to be done"):
        agreements.update_draft(
            agreement=agreement,
            actor=world.mediator,
            facts="",
            terms=[act],
            costs="",
            effectiveness="",
            judicial_confirmation=True,
        )


@pytest.mark.parametrize("who", ["judge", "plaintiff"])
def test_only_the_mediator_drafts(world, who):
    agreement = draft(world)
    with pytest.raises(ActionForbidden):
        agreements.start_agreement(case=world.case, actor=getattr(world, who))
    with pytest.raises(ActionForbidden):
        agreements.update_draft(
            agreement=agreement,
            actor=getattr(world, who),
            facts="",
            terms=[],
            costs="",
            effectiveness="",
            judicial_confirmation=True,
        )


def test_the_draft_form_shows_term_errors_and_changes_nothing(client, world):
    agreement = draft(world)
    client.force_login(world.mediator)
    response = client.post(
        reverse("agreement_edit", args=[agreement.pk]),
        {
            "facts": "事实",
            "costs": "无",
            "effectiveness": "签章后生效",
            "terms-TOTAL_FORMS": "1",
            "terms-INITIAL_FORMS": "0",
            "terms-0-kind": "payment",
            "terms-0-obligor": defendant_party(world).pk,
            "terms-0-obligee": plaintiff_party(world).pk,
            "terms-0-amount": "",
            "terms-0-due_date": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "give the amount" in page
    assert "give the due date" in page
    assert fresh(agreement).current_version.content["facts"] == "原告为被告制作宣传视频，被告未支付制作费。"


def test_the_html_preview_is_available_at_any_time(client, world, people):
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    client.force_login(world.mediator)
    empty = client.get(reverse("agreement_preview", args=[agreement.pk]))
    assert empty.status_code == 200
    assert plaintiff_party(world).name in empty.content.decode()

    agreement = draft(world)
    for user in (world.mediator, world.plaintiff, world.defendant, world.judge):
        client.force_login(user)
        page = client.get(reverse("agreement_preview", args=[agreement.pk])).content.decode()
        assert world.case.number in page
        assert "500,000.00" in page
        assert agreement.verification_code in page
        assert 'id="slot-mediator"' in page
    client.force_login(make_case(people["mediator"], None, label="B").plaintiff)
    assert client.get(reverse("agreement_preview", args=[agreement.pk])).status_code == 404


def test_a_draft_without_terms_or_by_another_person_cannot_be_locked(world):
    agreement = draft(world, terms=[])
    with pytest.raises(ValidationError, match="at least one agreed term"):
        agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    agreement = draft(world)
    with pytest.raises(ActionForbidden):
        agreements.lock_agreement(agreement=agreement, actor=world.plaintiff)
    assert (fresh(agreement).status, fresh(agreement).current_version.content_hash) == ("draft", "")


def test_signing_a_draft_is_refused(world):
    agreement = draft(world)
    with pytest.raises(TransitionNotAllowed, match="not waiting for signatures"):
        sign(agreement, world.mediator, version_hash="")
    assert not Signature.objects.exists()


# Locking -------------------------------------------------------------------------------------


def test_locking_freezes_the_content_hash_renders_the_pdf_and_adds_empty_signature_fields(built):
    world, agreement = built.locked_world, fresh(built.locked)
    version = agreement.current_version

    assert (agreement.status, version.status) == ("locked", "locked")
    assert version.content_hash == content_hash(version.content)
    assert version.content["case_number"] == world.case.number
    assert {party["name"] for party in version.content["parties"]} == {
        plaintiff_party(world).name,
        defendant_party(world).name,
    }
    assert version.locked_blob_id == version.latest_blob_id
    assert version.locked_by == world.mediator
    pdf = read_blob(version.locked_blob)
    assert pdf.startswith(b"%PDF-")
    expected = ["mediator", f"party-{plaintiff_party(world).pk}", f"party-{defendant_party(world).pk}"]
    assert [slot["slot"] for slot in version.signature_slots] == expected
    reader = PdfFileReader(io.BytesIO(pdf))
    fields = {field["/T"]: field for field in (ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"])}
    # The signers' fields, and the platform's, where its seal shows once sealed.
    assert sorted(fields) == sorted([*expected, "platform-seal"])
    assert all(field["/FT"] == "/Sig" and "/V" not in field for field in fields.values())
    assert list(reader.embedded_signatures) == []
    assert RoomEntry.objects.filter(room=world.joint, kind="agreement.locked").count() == 1
    assert Notification.objects.filter(kind="agreement.locked", recipient=world.defendant).count() == 1


def test_a_locked_agreement_cannot_be_locked_again(built):
    before = snapshot(built.locked)
    with pytest.raises(TransitionNotAllowed):
        agreements.lock_agreement(agreement=fresh(built.locked), actor=built.locked_world.mediator)
    assert snapshot(built.locked) == before


def test_the_preview_of_a_locked_agreement_shows_its_fingerprint(client, built):
    agreement = fresh(built.locked)
    client.force_login(built.locked_world.plaintiff)
    page = client.get(reverse("agreement_preview", args=[agreement.pk])).content.decode()
    assert agreement.current_version.content_hash[:16] in page


def signature_list(client, agreement, user, language) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("agreement_detail", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE=language)
    return [slot["label"] for slot in response.context["slots"]]


def test_the_signature_list_names_each_place_in_the_readers_language(client, built):
    world, agreement = built.signing_world, fresh(built.signing)
    plaintiff, defendant = plaintiff_party(world).name, defendant_party(world).name

    assert signature_list(client, agreement, world.plaintiff, "en") == [
        "Mediator: 刘洋",
        f"Plaintiff: {plaintiff}",
        f"Defendant: {defendant}",
    ]
    assert signature_list(client, agreement, world.defendant, "zh-hans") == [
        "调解员：刘洋",
        f"原告：{plaintiff}",
        f"被告：{defendant}",
    ]
    # The agreement itself stays in the document's language, whoever reads it.
    client.force_login(world.plaintiff)
    preview = client.get(reverse("agreement_preview", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "调解员：刘洋" in preview.content.decode()


def test_places_locked_with_a_chinese_label_are_named_in_the_readers_language(client, built):
    # Versions locked before the places kept their side and name stored a label in the
    # document's language; the parties' snapshot in the version names them.
    world, agreement = built.signing_world, fresh(built.signing)
    version = agreement.current_version
    version.signature_slots = [
        {"slot": entry["slot"], "party": entry["party"], "label": "调解员：旧" if entry["party"] is None else "旧"}
        for entry in version.signature_slots
    ]
    version.save(update_fields=["signature_slots"])

    assert signature_list(client, agreement, world.plaintiff, "en") == [
        "Mediator: 刘洋",
        f"Plaintiff: {plaintiff_party(world).name}",
        f"Defendant: {defendant_party(world).name}",
    ]


# Versions: editing and declining ------------------------------------------------------------------


def edit(agreement, world, **changes):
    arguments = {
        "facts": "修改后的事实。",
        "terms": [payment_term(world, amount="450000")],
        "costs": "调解不收费。",
        "effectiveness": "各方签章后生效。",
        "judicial_confirmation": True,
        **changes,
    }
    return agreements.update_draft(agreement=fresh(agreement), actor=world.mediator, **arguments)


def test_editing_a_locked_agreement_makes_a_new_version_and_leaves_the_locked_one_untouched(built):
    world = built.locked_world
    old = fresh(built.locked).current_version
    old_content, old_hash = dict(old.content), old.content_hash

    new = edit(built.locked, world)

    old.refresh_from_db()
    agreement = fresh(built.locked)
    assert (new.number, new.status, new.content_hash) == (2, "draft", "")
    assert new.content["terms"][0]["amount"] == "450000.00"
    assert agreement.current_version == new
    assert agreement.status == "draft"
    assert (old.status, old.content, old.content_hash) == ("void", old_content, old_hash)
    assert old.void_reason


def test_editing_during_signing_voids_the_collected_signatures(built):
    world = built.signing_world
    old = fresh(built.signing).current_version
    [mediator_signature] = Signature.objects.filter(version=old)

    edit(built.signing, world)

    mediator_signature.refresh_from_db()
    assert mediator_signature.voided_at is not None
    assert fresh(built.signing).status == "draft"
    assert AgreementVersion.objects.get(pk=old.pk).status == "void"
    event = RoomEntry.objects.get(room=world.joint, kind="agreement.changed")
    assert (event.data["version"], event.data["signatures_voided"]) == (2, 1)
    # A signature on the voided version is refused: the agreement waits for a new lock.
    with pytest.raises(TransitionNotAllowed):
        sign(built.signing, world.plaintiff, plaintiff_party(world), version_hash=old.content_hash)


def test_a_party_declines_with_a_reason_and_the_agreement_returns_to_draft(client, built):
    world = built.signing_world
    old = fresh(built.signing).current_version
    client.force_login(world.defendant)

    client.post(reverse("agreement_decline", args=[built.signing.pk]), {"reason": "付款期限太短。"})

    agreement = fresh(built.signing)
    assert agreement.status == "draft"
    new = agreement.current_version
    assert (new.number, new.status) == (2, "draft")
    assert dict(new.content) == old.content
    old.refresh_from_db()
    assert (old.status, old.void_reason) == ("void", "付款期限太短。")
    assert not Signature.objects.filter(version=old, voided_at__isnull=True).exists()
    assert Notification.objects.filter(kind="agreement.declined", recipient=world.mediator).count() == 1


def test_declining_needs_a_reason_and_a_participant(built):
    world = built.signing_world
    before = snapshot(built.signing)
    with pytest.raises(ValidationError):
        agreements.decline_agreement(agreement=fresh(built.signing), actor=world.defendant, reason=" ")
    with pytest.raises(ActionForbidden):
        agreements.decline_agreement(agreement=fresh(built.signing), actor=world.mediator, reason="no")
    with pytest.raises(ActionForbidden):
        agreements.decline_agreement(agreement=fresh(built.signing), actor=world.judge, reason="no")
    assert snapshot(built.signing) == before


# Refused signings ---------------------------------------------------------------------------------


def test_signing_a_stale_version_is_refused(built):
    world = built.signing_world
    before = snapshot(built.signing)
    with pytest.raises(TransitionNotAllowed) as refused:
        sign(built.signing, world.plaintiff, plaintiff_party(world), version_hash="0" * 64)
    assert refused.value.code == "stale_version"
    assert snapshot(built.signing) == before


def test_signing_twice_is_refused(built):
    before = snapshot(built.signing)
    with pytest.raises(TransitionNotAllowed) as refused:
        sign(built.signing, built.signing_world.mediator)
    assert refused.value.code == "already_signed"
    assert snapshot(built.signing) == before


def test_signing_for_a_party_one_does_not_represent_is_refused(built):
    world = built.signing_world
    before = snapshot(built.signing)
    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(built.signing, world.plaintiff, defendant_party(world))
    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(built.signing, world.mediator, defendant_party(world))
    # Someone who is neither the mediator nor a party's person cannot sign at all.
    with pytest.raises(ActionForbidden):
        sign(built.signing, world.judge)
    assert snapshot(built.signing) == before


def test_a_party_cannot_sign_before_the_mediator(built):
    world = built.locked_world
    before = snapshot(built.locked)
    with pytest.raises(TransitionNotAllowed) as refused:
        sign(built.locked, world.plaintiff, plaintiff_party(world))
    assert refused.value.code == "mediator_first"
    assert snapshot(built.locked) == before


def test_the_page_offers_signing_exactly_where_the_service_would_sign(client, built):
    # One rule for who may sign what: the agreement's page and the signing service.
    waiting, signing = built.locked_world, built.signing_world
    # A party in the case that the locked version does not name is no signer of it.
    # (The services no longer add a party once a version is locked; the row is made
    # directly, as one added before that rule would be.)
    late_party = Party.objects.create(case=signing.case, side="plaintiff", kind="person", name="王芳")
    late = UserFactory(full_name="王芳")
    cases.attach_participant(case=signing.case, party=late_party, user=late, role="party", actor=signing.mediator)

    def page(agreement, user):
        client.force_login(user)
        return client.get(reverse("agreement_detail", args=[agreement.pk])).context

    shown = page(built.locked, waiting.plaintiff)
    assert (shown["may_sign"], shown["waiting_for_mediator"]) == (False, True)
    with pytest.raises(TransitionNotAllowed) as refused:
        sign(built.locked, waiting.plaintiff, plaintiff_party(waiting))
    assert refused.value.code == "mediator_first"

    assert page(built.locked, waiting.mediator)["may_sign"] is True
    assert page(built.signing, signing.mediator)["may_sign"] is False
    assert page(built.signing, signing.plaintiff)["may_sign"] is True

    shown = page(built.signing, late)
    assert (shown["may_sign"], shown["waiting_for_mediator"], shown["can_sign_for"]) == (False, False, [])
    before = snapshot(built.signing)
    with pytest.raises(TransitionNotAllowed, match="not a signer of this version"):
        sign(built.signing, late, late_party)
    assert snapshot(built.signing) == before


def test_a_wrong_password_is_refused(built):
    world = built.signing_world
    before = snapshot(built.signing)
    with pytest.raises(ActionForbidden, match="password is not right"):
        sign(built.signing, world.plaintiff, plaintiff_party(world), password="not-my-password")
    with pytest.raises(ActionForbidden, match="password is not right"):
        sign(built.signing, world.plaintiff, plaintiff_party(world), password="")
    assert snapshot(built.signing) == before


def totp_for(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_a_wrong_totp_code_is_refused_even_with_the_right_password(built):
    world = built.signing_world
    secret = totp_for(world.plaintiff)
    wrong = format_hotp_value((int(current_code(secret)) + 1) % 1_000_000)
    before = snapshot(built.signing)
    for code in (wrong, "", "abcdef"):
        with pytest.raises(ActionForbidden, match="authenticator app is not right"):
            sign(built.signing, world.plaintiff, plaintiff_party(world), password=PASSWORD, totp=code)
    assert snapshot(built.signing) == before


def test_a_correct_totp_code_is_accepted(built):
    world = built.signing_world
    secret = totp_for(world.plaintiff)

    signature = sign(built.signing, world.plaintiff, plaintiff_party(world), password="", totp=current_code(secret))

    assert signature.reauthenticated_by == "totp"
    assert fresh(built.signing).status == "signing"
    assert Signature.objects.filter(version=signature.version, voided_at__isnull=True).count() == 2


def with_verified_phone(user, number="+8613912345678"):
    user.phone, user.phone_verified_at = number, timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def texted_code(sms_outbox) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox[-1].body).group(1)


def sms_signing(client, agreement, party, **fields):
    return client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {"version_hash": agreement.current_version.content_hash, "party": party.pk, "method": "typed", **fields},
    )


def test_a_party_with_a_verified_phone_signs_with_a_texted_code_and_only_the_right_one(client, built, sms_outbox):
    world = built.signing_world
    agreement = fresh(built.signing)
    party = plaintiff_party(world)
    with_verified_phone(world.plaintiff)
    client.force_login(world.plaintiff)
    page = client.get(reverse("agreement_sign", args=[agreement.pk])).content.decode()
    assert "Text me a code" in page and "139****5678" in page
    assert 'name="password"' not in page
    before = snapshot(agreement)

    # Without a code, or with a wrong one: nothing is signed, and the page says why.
    response = sms_signing(client, agreement, party)
    assert response.status_code == 400 and "code texted to your phone" in response.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("agreement_sign", args=[agreement.pk]),
            {"version_hash": agreement.current_version.content_hash, "party": party.pk, "send_code": "1"},
        )
    assert response.status_code == 200
    assert "139****5678" in response.content.decode()
    assert [message.to for message in sms_outbox] == ["+8613912345678"]
    assert sms_outbox[-1].template == "signing_code" and agreement.case.number in sms_outbox[-1].body
    code = texted_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = sms_signing(client, agreement, party, sms_code=wrong)
    assert response.status_code == 400 and "The code is not right" in response.content.decode()
    assert snapshot(agreement) == before

    response = sms_signing(client, agreement, party, sms_code=code)

    assert response.status_code == 302
    signature = Signature.objects.get(version=agreement.current_version, signer=world.plaintiff)
    assert signature.reauthenticated_by == "sms"


def test_a_texted_code_tried_five_times_wrong_no_longer_signs(built, sms_outbox):
    from documents.reauthentication import send_signing_code

    world = built.signing_world
    with_verified_phone(world.plaintiff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_signing_code(world.plaintiff, fresh(built.signing), client_address=IP)
    code = texted_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    before = snapshot(built.signing)
    for _attempt in range(5):
        with pytest.raises(ActionForbidden, match="not right"):
            sms_sign(built.signing, world.plaintiff, plaintiff_party(world), wrong)

    with pytest.raises(ActionForbidden, match="tried too many times"):
        sms_sign(built.signing, world.plaintiff, plaintiff_party(world), code)
    assert snapshot(built.signing) == before


def test_a_texted_code_signs_once_and_a_code_for_another_purpose_never(built, sms_outbox):
    from documents.reauthentication import send_signing_code
    from mediation.verification_codes import send_code

    world = built.signing_world
    with_verified_phone(world.plaintiff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_code("+8613912345678", "login", client_address=IP)
    with pytest.raises(ActionForbidden, match="Ask for a code first"):
        sms_sign(built.signing, world.plaintiff, plaintiff_party(world), texted_code(sms_outbox))
    # A minute later (a number gets one code a minute, whatever it is for).
    PhoneCode.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_signing_code(world.plaintiff, fresh(built.signing), client_address=IP)
    code = texted_code(sms_outbox)
    assert sms_sign(built.signing, world.plaintiff, plaintiff_party(world), code).reauthenticated_by == "sms"
    with pytest.raises((ActionForbidden, TransitionNotAllowed)):
        sms_sign(built.signing, world.defendant, defendant_party(world), code)


def test_a_code_texted_to_sign_one_agreement_signs_no_other(built, sms_outbox):
    from documents.reauthentication import send_signing_code

    world = built.signing_world
    with_verified_phone(world.plaintiff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_signing_code(world.plaintiff, fresh(built.locked), client_address=IP)
    before = snapshot(built.signing)

    with pytest.raises(ActionForbidden, match="not right"):
        sms_sign(built.signing, world.plaintiff, plaintiff_party(world), texted_code(sms_outbox))
    assert snapshot(built.signing) == before


def test_no_code_is_texted_to_someone_with_nothing_to_sign_nor_to_court_staff(client, built, sms_outbox):
    world = built.locked_world  # the mediator has not signed: the parties wait
    agreement = fresh(built.locked)
    with_verified_phone(world.defendant, "+8613700001111")
    client.force_login(world.defendant)
    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {"version_hash": agreement.current_version.content_hash, "send_code": "1"},
    )
    assert response.status_code == 403
    with_verified_phone(world.mediator, "+8613700002222")
    client.force_login(world.mediator)
    page = client.get(reverse("agreement_sign", args=[agreement.pk])).content.decode()
    assert 'name="password"' in page and "Text me a code" not in page
    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {"version_hash": agreement.current_version.content_hash, "send_code": "1"},
    )
    assert response.status_code == 403
    assert sms_outbox == []


def sms_sign(agreement, user, party, code):
    agreement = fresh(agreement)
    return agreements.sign_agreement(
        agreement=agreement,
        actor=user,
        version_hash=agreement.current_version.content_hash,
        party=party,
        method="typed",
        image_png=None,
        reauthentication=Reauthentication(sms_code=code),
        ip=IP,
        user_agent=USER_AGENT,
    )


def test_the_sign_page_shows_a_wrong_password_and_changes_nothing(client, built):
    world = built.signing_world
    agreement = fresh(built.signing)
    before = snapshot(agreement)
    client.force_login(world.plaintiff)
    page = client.get(reverse("agreement_sign", args=[agreement.pk]))
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode()

    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "party": plaintiff_party(world).pk,
            "method": "typed",
            "password": "not-my-password",
        },
    )

    assert response.status_code == 400
    assert "password is not right" in response.content.decode()
    assert snapshot(agreement) == before


@pytest.fixture
def rate_limited(settings):
    """The rate limits of base settings (the test settings switch them off)."""
    from django.core.cache import cache

    from config.settings import base as base_settings

    settings.ACCOUNT_RATE_LIMITS = base_settings.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield
    cache.clear()


def post_signature(client, agreement, party, password):
    return client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "party": party.pk,
            "method": "typed",
            "password": password,
        },
    )


def test_wrong_passwords_at_signing_are_throttled_like_logins(client, built, rate_limited):
    world = built.signing_world
    agreement = fresh(built.signing)
    before = snapshot(agreement)
    client.force_login(world.plaintiff)
    for attempt in range(5):
        response = post_signature(client, agreement, plaintiff_party(world), f"guess-{attempt}")
        assert response.status_code == 400, attempt
        assert "password is not right" in response.content.decode()

    response = post_signature(client, agreement, plaintiff_party(world), PASSWORD)

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert snapshot(agreement) == before


def test_the_right_password_below_the_limit_signs(client, built, rate_limited):
    world = built.signing_world
    agreement = fresh(built.signing)
    client.force_login(world.plaintiff)
    for attempt in range(4):
        post_signature(client, agreement, plaintiff_party(world), f"guess-{attempt}")

    response = post_signature(client, agreement, plaintiff_party(world), PASSWORD)

    assert response.status_code == 302
    assert Signature.objects.filter(version=agreement.current_version, signer=world.plaintiff).exists()


def test_a_wrong_password_at_signing_is_audited_without_what_was_typed(client, built):
    world = built.signing_world
    agreement = fresh(built.signing)
    client.force_login(world.plaintiff)
    already = set(AuditEntry.objects.values_list("pk", flat=True))

    post_signature(client, agreement, plaintiff_party(world), "Secret-guess-2026")

    [entry] = AuditEntry.objects.exclude(pk__in=already)
    assert entry.action == "agreement.reauthentication_failed"
    assert (entry.target_type, entry.target_id, entry.actor_id) == (
        "documents.agreement",
        str(agreement.pk),
        world.plaintiff.pk,
    )
    assert entry.data == {
        "case": agreement.case_id,
        "version": agreement.current_version.number,
        "party": plaintiff_party(world).pk,
        "method": "password",
    }
    assert "Secret-guess-2026" not in str(entry.data)


def test_the_sign_page_refuses_a_stale_version(client, built):
    world = built.signing_world
    agreement = fresh(built.signing)
    before = snapshot(agreement)
    client.force_login(world.plaintiff)
    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {"version_hash": "f" * 64, "party": plaintiff_party(world).pk, "method": "typed", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "changed since you opened it" in response.content.decode()
    assert snapshot(agreement) == before


# What a signature records -------------------------------------------------------------------------


def test_each_signature_records_signer_role_party_time_ip_agent_version_image_and_certificate(built):
    world = built.crashed_world
    version = fresh(built.crashed).current_version
    signatures = list(Signature.objects.filter(version=version).select_related("image"))

    assert [(s.signer, s.role, s.party) for s in signatures] == [
        (world.mediator, "mediator", None),
        (world.plaintiff, "agent", plaintiff_party(world)),
        (world.defendant, "legal_representative", defendant_party(world)),
    ]
    assert [s.method for s in signatures] == ["drawn", "drawn", "typed"]
    authority = load_platform_pki().authority.certificate
    previous = read_blob(version.locked_blob)
    for signature in signatures:
        assert signature.signed_at is not None
        assert (signature.ip_address, signature.user_agent) == (IP, USER_AGENT)
        assert signature.version_hash == version.content_hash
        assert signature.reauthenticated_by == "password"
        assert signature.voided_at is None
        image = Image.open(io.BytesIO(read_blob(signature.image)))
        assert (image.format, signature.image.content_type) == ("PNG", "image/png")
        certificate = x509.load_pem_x509_certificate(signature.certificate_pem.encode())
        assert format(certificate.serial_number, "x") == signature.certificate_serial
        assert certificate.issuer == authority.subject
        assert certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == str(signature.signer)
        assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).total_seconds() == 3600
        # Each signature is an incremental revision: the file before it is kept intact.
        revision = read_blob(Blob.objects.get(pk=signature.revision_hash))
        assert revision.startswith(previous) and len(revision) > len(previous)
        previous = revision
    assert version.latest_blob_id == signatures[-1].revision_hash
    assert len({s.certificate_serial for s in signatures}) == 3


# Sealing -----------------------------------------------------------------------------------------


def test_a_crash_between_signing_and_sealing_leaves_the_agreement_waiting(built):
    assert built.crashes == ["document_timestamp"]
    agreement = fresh(built.crashed)
    assert (agreement.status, agreement.sealed_blob, agreement.certificate_blob) == ("signing", None, None)
    assert MediationCase.objects.get(pk=agreement.case_id).status != MediationCase.Status.SETTLED
    assert agreements_waiting_for_seal() == [agreement]
    assert not RoomEntry.objects.filter(kind="agreement.sealed").exists()


def test_the_seal_agreements_command_recovers_it_and_is_idempotent(built, capsys):
    call_command("seal_agreements")
    assert "agreements sealed: 1" in capsys.readouterr().out

    agreement = fresh(built.crashed)
    assert agreement.status == "sealed"
    assert agreement.sealed_blob is not None and agreement.certificate_blob is not None
    assert agreement.current_version.status == "sealed"
    assert MediationCase.objects.get(pk=agreement.case_id).status == MediationCase.Status.SETTLED
    sealed = read_blob(agreement.sealed_blob)
    assert sealed.startswith(read_blob(Blob.objects.get(pk=agreement.current_version.latest_blob_id)))
    blobs = Blob.objects.count()

    call_command("seal_agreements")

    assert "agreements sealed: 0" in capsys.readouterr().out
    assert fresh(built.crashed).sealed_blob_id == agreement.sealed_blob_id
    assert Blob.objects.count() == blobs
    assert RoomEntry.objects.filter(room=built.crashed_world.joint, kind="agreement.sealed").count() == 1


def test_sealing_twice_produces_one_sealed_pdf(built, monkeypatch):
    first = agreements.seal_agreement(agreement=fresh(built.crashed))
    blobs = Blob.objects.count()
    timestamps = []
    monkeypatch.setattr(agreements, "document_timestamp", lambda pdf: timestamps.append(pdf) or pdf)

    second = agreements.seal_agreement(agreement=fresh(built.crashed))
    agreements.seal_agreement_safely(built.crashed.pk)
    call_command("seal_agreements")

    assert timestamps == []
    assert second.sealed_blob_id == first.sealed_blob_id
    assert second.certificate_blob_id == first.certificate_blob_id
    assert second.sealed_at == first.sealed_at
    assert Blob.objects.count() == blobs
    assert RoomEntry.objects.filter(room=built.crashed_world.joint, kind="agreement.sealed").count() == 1
    assert agreements_waiting_for_seal() == []


def test_sealing_locks_the_case_before_the_audit_chain_as_every_change_to_a_case_does(built, postgres):
    with CaptureQueriesContext(postgres) as queries:
        agreements.seal_agreement(agreement=fresh(built.crashed))

    locked = tables_locked(queries)
    assert locked.index("mediation_mediationcase") < locked.index("mediation_auditchainhead")


def test_sealing_tells_every_room_when_it_closes_and_audits_it(built, postgres):
    world = built.crashed_world
    rooms = [world.joint, world.plaintiff_caucus, world.defendant_caucus]
    with CaptureQueriesContext(postgres) as queries:
        agreement = agreements.seal_agreement(agreement=fresh(built.crashed))

    closes_at = agreement.sealed_at + dt.timedelta(minutes=django_settings.ROOM_CLOSE_GRACE_MINUTES)
    for room in rooms:
        room.refresh_from_db()
        assert room.closes_at == closes_at
        [event] = RoomEntry.objects.filter(room=room, kind="room.closing")
        assert event.author is None
        assert event.data == {"actor": None, "closes_at": closes_at.isoformat(), "reason": "agreement_sealed"}
        [entry] = AuditEntry.objects.filter(action="room.schedule_close", target_id=str(room.pk))
        assert entry.actor_id is None
        assert entry.data == {"case": world.case.pk, "closes_at": closes_at.isoformat(), "reason": "agreement_sealed"}
    # The rooms are locked after the audit chain, as every audited change takes them.
    locked = tables_locked(queries)
    assert locked.index("mediation_auditchainhead") < locked.index("rooms_room")


def test_an_agreement_missing_a_signature_is_not_sealed(built):
    before = snapshot(built.signing)
    with pytest.raises(TransitionNotAllowed, match="Not every signer"):
        agreements.seal_agreement(agreement=fresh(built.signing))
    assert snapshot(built.signing) == before
    assert fresh(built.signing) not in agreements_waiting_for_seal()


def test_a_sealed_agreement_cannot_be_changed_or_signed(built):
    agreements.seal_agreement(agreement=fresh(built.crashed))
    world = built.crashed_world
    with pytest.raises(TransitionNotAllowed):
        edit(built.crashed, world)
    with pytest.raises(TransitionNotAllowed):
        sign(built.crashed, world.plaintiff, plaintiff_party(world))
    with pytest.raises((TransitionNotAllowed, PermissionDenied)):
        agreements.decline_agreement(agreement=fresh(built.crashed), actor=world.defendant, reason="too late")
    assert fresh(built.crashed).status == "sealed"


# Text messages -----------------------------------------------------------------------------------


def with_verified_phones(world) -> dict:
    """The people of a case with verified mobile numbers, by phone."""
    phones = {}
    for index, user in enumerate((world.plaintiff, world.defendant, world.mediator)):
        user.phone = f"+86138001381{index:02d}"
        user.phone_verified_at = dt.datetime.now(dt.UTC)
        user.save(update_fields=["phone", "phone_verified_at"])
        phones[user.phone] = user
    return phones


def test_the_parties_are_texted_once_when_it_is_their_turn_to_sign(built):
    world = built.locked_world
    with_verified_phones(world)

    sign(built.locked, world.mediator)

    texts = list(SmsMessage.objects.filter(template="notice_agreement_ready"))
    assert sorted(text.to for text in texts) == sorted([str(world.plaintiff.phone), str(world.defendant.phone)])
    assert all(world.case.number in text.body and "/n/" in text.body for text in texts)
    # The mediator (staff, not opted in) is not texted; nobody else is.
    assert SmsMessage.objects.count() == 2


def test_the_sealed_agreement_is_texted_once_to_each_party_and_not_to_staff(built):
    world = built.crashed_world
    with_verified_phones(world)

    agreements.seal_agreement(agreement=fresh(built.crashed))
    agreements.seal_agreement(agreement=fresh(built.crashed))

    texts = list(SmsMessage.objects.filter(template="notice_agreement_sealed"))
    assert sorted(text.to for text in texts) == sorted([str(world.plaintiff.phone), str(world.defendant.phone)])
    assert all(world.case.number in text.body for text in texts)
