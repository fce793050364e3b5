"""Identity levels (实名): account only → mobile verified → real name verified, raised by
an in-person ID check that court staff record from the case page, through the
IDENTITY_VERIFIER adapter. Refusals first: who may not, levels out of order, invalid
ID numbers, evidence that is not a scan; then what a recorded check changes and who
sees it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mediation import identity
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.identity import (
    IdentityNotVerified,
    IdentityVerifier,
    VerificationResult,
    get_verifier,
    may_record_identity_check,
)
from mediation.models import AuditEntry, IdentityCheck, IdentityLevel, User
from mediation.roles import Role
from mediation.services.identity import verify_real_name
from tests.cases import make_case
from tests.factories import UserFactory, staff
from tests.identities import png_bytes, valid_id_number, verify_phone

pytestmark = pytest.mark.django_db


ID_NUMBER = valid_id_number()
WRONG_CHECK_DIGIT = ID_NUMBER[:17] + ("1" if ID_NUMBER[17] == "0" else "0")


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def world(mediator, judge):
    built = make_case(mediator, judge)
    built.plaintiff = verify_phone(built.plaintiff, "+8613800138001")
    built.defendant = verify_phone(built.defendant, "+8613800138002")
    return built


def record(world, actor, person=None, **overrides):
    arguments = {
        "person": person or world.defendant,
        "actor": actor,
        "full_name": "赵丽华",
        "id_number": ID_NUMBER,
        "evidence": (png_bytes(), "id-card.png"),
        "case": world.case,
        **overrides,
    }
    return verify_real_name(**arguments)


def assert_unchanged(person: User):
    person = User.objects.get(pk=person.pk)
    assert person.identity_level != IdentityLevel.REAL_NAME
    assert person.id_number == ""
    assert not IdentityCheck.objects.exists()
    assert not AuditEntry.objects.filter(action="identity.verify_real_name").exists()


# Who may record a check ----------------------------------------------------------------


def test_a_party_cannot_verify_themselves_or_the_other_side(world, settings):
    for actor, person in [
        (world.defendant, world.defendant),
        (world.plaintiff, world.defendant),
        (world.defendant, world.plaintiff),
    ]:
        with pytest.raises(ActionForbidden):
            record(world, actor, person)
    assert_unchanged(world.defendant)
    assert_unchanged(world.plaintiff)
    assert stored_files(settings) == []


def test_staff_outside_the_case_cannot_record_a_check(world, other_judge, outside_judge, dept_liaison, head, filing):
    another_mediator = staff(Role.MEDIATOR, filing, full_name="Other Mediator")
    operator = UserFactory(is_staff=True, is_superuser=True)
    for actor in (other_judge, outside_judge, dept_liaison, head, another_mediator, operator):
        assert not may_record_identity_check(actor, world.defendant, world.case)
        assert not may_record_identity_check(actor, world.defendant)
        with pytest.raises(ActionForbidden):
            record(world, actor)
    assert_unchanged(world.defendant)


def test_the_case_mediator_judge_and_general_liaison_may_record_a_check(world, liaison):
    for actor in (world.mediator, world.judge, liaison):
        assert may_record_identity_check(actor, world.defendant, world.case)
    # Of their own case only: another case's participant is not theirs.
    other = make_case(staff(Role.MEDIATOR, full_name="Mediator B"), label="B")
    assert not may_record_identity_check(world.mediator, other.defendant)
    assert not may_record_identity_check(world.mediator, other.defendant, world.case)
    assert may_record_identity_check(liaison, other.defendant)


def test_a_removed_participant_is_no_longer_the_mediators_to_verify(world):
    world.defendant_participant.removed_at = timezone.now()
    world.defendant_participant.save(update_fields=["removed_at"])
    assert not may_record_identity_check(world.mediator, world.defendant, world.case)


# Levels in order, and what the ID number must be ------------------------------------------


def test_a_real_name_is_verified_only_after_the_mobile_number(world, settings):
    User.objects.filter(pk=world.defendant.pk).update(phone_verified_at=None)
    world.defendant.refresh_from_db()
    assert world.defendant.identity_level == IdentityLevel.ACCOUNT

    with pytest.raises(TransitionNotAllowed) as refused:
        record(world, world.mediator)

    assert refused.value.code == "mobile_not_verified"
    assert "mobile number is not verified yet" in refused.value.message
    assert_unchanged(world.defendant)
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "number, says",
    [
        ("11010519491231002", "has 18 characters; this one has 17"),
        (WRONG_CHECK_DIGIT, "check digit is wrong"),
        (valid_id_number("11010519491331002"), "19491331 is not a date"),
        ("1101051949123100A2", "17 digits followed by a digit or the letter X"),
        ("", "The ID number is required."),
    ],
)
def test_an_invalid_id_number_is_refused_naming_what_is_wrong(world, settings, number, says):
    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, id_number=number)

    assert says in " ".join(refused.value.message_dict["id_number"])
    assert_unchanged(world.defendant)
    assert stored_files(settings) == []


def test_an_id_number_verified_for_another_account_is_refused(world):
    record(world, world.mediator, person=world.plaintiff, full_name="王志强")

    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator)

    assert "verified for another account already" in refused.value.message_dict["id_number"][0]
    assert User.objects.get(pk=world.defendant.pk).identity_level == IdentityLevel.MOBILE


def test_a_real_name_verified_already_is_not_verified_again(world):
    record(world, world.mediator)

    with pytest.raises(TransitionNotAllowed) as refused:
        record(world, world.judge, id_number=valid_id_number("11010519800101001"))

    assert refused.value.code == "already_verified"
    assert IdentityCheck.objects.count() == 1


def test_a_name_is_required(world):
    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, full_name="   ")
    assert "full_name" in refused.value.message_dict
    assert_unchanged(world.defendant)


# The evidence: a scan or photo of the ID document ------------------------------------------


@pytest.mark.parametrize(
    "data, filename, says",
    [
        (None, "", "Upload a scan or photo of the ID document you checked."),
        (b"", "id.png", "Upload a scan or photo of the ID document you checked."),
        (b"just some text, not an image", "id.png", "Only PDF, PNG and JPEG files can be uploaded."),
        (png_bytes(), "id.exe", "Only files named .pdf, .png, .jpg or .jpeg can be uploaded"),
        (png_bytes(), "id.jpg", "is named as JPEG but is really PNG"),
        (png_bytes()[:60], "id.png", "The file is damaged or cannot be read."),
    ],
)
def test_evidence_that_is_not_a_readable_scan_is_refused(world, settings, data, filename, says):
    evidence = None if data is None else (data, filename)
    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, evidence=evidence)

    assert says in " ".join(refused.value.message_dict["file"])
    assert_unchanged(world.defendant)
    assert stored_files(settings) == []


def test_a_word_file_is_not_evidence_of_an_id_check(world, settings):
    from tests.documents.test_uploads import docx_file

    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, evidence=(docx_file(), "id.docx"))

    assert "Only PDF, PNG and JPEG files can be uploaded." in refused.value.message_dict["file"]
    assert_unchanged(world.defendant)


def test_evidence_over_the_size_limit_is_refused(world, settings):
    data = png_bytes((400, 400))
    settings.IDENTITY_EVIDENCE_MAX_BYTES = len(data) - 1

    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, evidence=(data, "id.png"))

    assert "The file is larger than" in refused.value.message_dict["file"][0]
    assert_unchanged(world.defendant)
    assert stored_files(settings) == []

    settings.IDENTITY_EVIDENCE_MAX_BYTES = len(data)
    record(world, world.mediator, evidence=(data, "id.png"))
    assert User.objects.get(pk=world.defendant.pk).identity_level == IdentityLevel.REAL_NAME


# A recorded check --------------------------------------------------------------------------


def test_an_in_person_check_records_who_when_and_the_scan(world, settings):
    scan = png_bytes()
    before = timezone.now()

    check = record(
        world, world.mediator, full_name=" 赵丽华 ", id_number=ID_NUMBER.lower(), evidence=(scan, "身份证.PNG")
    )

    person = User.objects.get(pk=world.defendant.pk)
    assert person.identity_level == IdentityLevel.REAL_NAME
    assert person.full_name == "赵丽华"
    assert person.id_number == ID_NUMBER
    assert person.real_name_verified_by == world.mediator
    assert person.real_name_verifier == "in_person"
    assert person.real_name_verified_at >= before
    assert check.verified_by == world.mediator
    assert check.verifier == "in_person"
    assert check.case == world.case
    assert check.id_number_hash == person.id_number_hash != ""
    assert check.evidence_content_type == "image/png"
    assert identity.read_evidence(check) == scan
    assert [path.name for path in stored_files(settings)] == [check.evidence_sha256]


def test_the_audit_trail_names_the_check_by_its_row_and_no_personal_data(world):
    check = record(world, world.mediator)

    entry = AuditEntry.objects.get(action="identity.verify_real_name")
    assert (entry.target_type, entry.target_id) == ("mediation.identitycheck", str(check.pk))
    assert entry.data["user"] == world.defendant.pk
    stored = json.dumps(entry.data, ensure_ascii=False)
    for personal in ("赵丽华", ID_NUMBER, ID_NUMBER[-4:] + '"', "138001380", world.defendant.email):
        assert personal not in stored


def test_the_scan_is_the_same_file_stored_once(world, settings):
    scan = png_bytes()
    record(world, world.mediator, evidence=(scan, "a.png"))
    record(
        world,
        world.mediator,
        person=world.plaintiff,
        id_number=valid_id_number("11010519800101001"),
        evidence=(scan, "b.png"),
    )
    assert len(stored_files(settings)) == 1


# The adapter -------------------------------------------------------------------------------


class ProviderVerifier(IdentityVerifier):
    """A provider that confirms any name but 'Nobody', without a scan."""

    name = "test_provider"
    label = "Test provider"

    def verify(self, *, person, full_name, id_number, actor, evidence=None):
        if full_name == "Nobody":
            raise IdentityNotVerified("The name and ID number do not match.")
        return VerificationResult(verifier=self.name, reference=f"REF-{person.pk}")


def test_the_default_verifier_is_the_in_person_check(settings):
    assert django_settings.IDENTITY_VERIFIER == "mediation.identity.InPersonVerifier"
    verifier = get_verifier()
    assert verifier.name == "in_person"
    assert verifier.requires_evidence


def test_a_deployment_plugs_in_its_provider(world, settings):
    settings.IDENTITY_VERIFIER = "tests.mediation.test_identity.ProviderVerifier"

    with pytest.raises(IdentityNotVerified):
        record(world, world.mediator, full_name="Nobody", evidence=None)
    assert_unchanged(world.defendant)

    check = record(world, world.mediator, evidence=None)

    person = User.objects.get(pk=world.defendant.pk)
    assert person.real_name_verifier == "test_provider"
    assert check.reference == f"REF-{world.defendant.pk}"
    assert check.evidence_storage_name == ""


def test_a_verifier_setting_that_is_not_a_verifier_is_a_configuration_error(settings):
    settings.IDENTITY_VERIFIER = "mediation.identity.no_such_thing"
    with pytest.raises(ImproperlyConfigured):
        get_verifier()
    settings.IDENTITY_VERIFIER = "mediation.identity.may_record_identity_check"
    with pytest.raises(ImproperlyConfigured):
        get_verifier()


# Pages -------------------------------------------------------------------------------------


def identity_url(world, participant=None):
    participant = participant or world.defendant_participant
    return reverse("record_identity_check", args=[world.case.pk, participant.pk])


def post_check(client, world, *, participant=None, data=None, file=None, name="id.png"):
    prefix = f"identity-{(participant or world.defendant_participant).pk}"
    payload = {f"{prefix}-full_name": "赵丽华", f"{prefix}-id_number": ID_NUMBER, **(data or {})}
    if file is not False:
        payload[f"{prefix}-file"] = SimpleUploadedFile(name, png_bytes() if file is None else file)
    return client.post(identity_url(world, participant), payload)


def test_a_party_posting_a_check_is_refused_and_nothing_changes(client, world):
    client.force_login(world.plaintiff)
    assert post_check(client, world).status_code == 403
    client.force_login(world.defendant)
    assert post_check(client, world).status_code == 403
    assert_unchanged(world.defendant)


def test_staff_of_another_case_get_not_found(client, world, outside_judge):
    client.force_login(outside_judge)
    assert post_check(client, world).status_code == 404
    assert_unchanged(world.defendant)


def test_a_participant_of_another_case_cannot_be_checked_through_this_one(client, world):
    other = make_case(world.mediator, label="B")
    client.force_login(world.mediator)
    response = post_check(client, world, participant=other.defendant_participant)
    assert response.status_code == 404


def test_the_mediator_records_a_check_from_the_case_page(client, world):
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert identity_url(world) in page
    assert 'enctype="multipart/form-data"' in page

    response = post_check(client, world)

    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "real name is verified" in page
    assert User.objects.get(pk=world.defendant.pk).identity_level == IdentityLevel.REAL_NAME
    # Verified: no form any more, but the scan is there for staff.
    assert identity_url(world) not in page
    check = IdentityCheck.objects.get()
    assert reverse("identity_check_evidence", args=[check.pk]) in page


def test_an_invalid_id_number_on_the_page_shows_the_error_by_the_field(client, world):
    client.force_login(world.mediator)
    response = post_check(client, world, data={f"identity-{world.defendant_participant.pk}-id_number": "110105"})
    assert response.status_code == 400
    assert "A resident ID number has 18 characters; this one has 6." in response.content.decode()
    assert_unchanged(world.defendant)


def test_a_disguised_scan_on_the_page_is_refused(client, world, settings):
    client.force_login(world.mediator)
    response = post_check(client, world, file=b"MZ\x90\x00 not a picture", name="id.png")
    assert response.status_code == 400
    assert "Only PDF, PNG and JPEG files can be uploaded." in response.content.decode()
    assert_unchanged(world.defendant)
    assert stored_files(settings) == []


def test_an_oversized_scan_on_the_page_is_refused_before_it_is_read(client, world, settings):
    settings.IDENTITY_EVIDENCE_MAX_BYTES = 100
    client.force_login(world.mediator)
    response = post_check(client, world)
    assert response.status_code == 400
    assert "The file is larger than 100" in response.content.decode()
    assert_unchanged(world.defendant)


def test_a_person_whose_mobile_is_not_verified_gets_no_form_but_a_reason(client, world):
    User.objects.filter(pk=world.defendant.pk).update(phone_verified_at=None)
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert identity_url(world) not in page
    assert identity_url(world, world.plaintiff_participant) in page
    assert "once this person's mobile number is verified" in page
    response = post_check(client, world)
    assert response.status_code == 409
    assert_unchanged(world.defendant)


def level_badges(page: str) -> list[str]:
    import re

    return re.findall(r'data-identity-level="(\w+)"', page)


def test_the_case_page_shows_each_participants_level(client, world):
    User.objects.filter(pk=world.plaintiff.pk).update(phone_verified_at=None)
    record(world, world.mediator)

    client.force_login(world.plaintiff)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()

    assert level_badges(page) == ["account", "real_name"]
    assert "Account only" in page and "Real name verified" in page
    # Parties see the levels, not who verified them nor the scan, nor any form.
    assert "data-identity-details" not in page
    assert "identity-check" not in page
    assert "data-identity-evidence" not in page


def test_staff_see_by_whom_and_when_a_level_was_verified(client, world, liaison):
    record(world, world.mediator)
    when = timezone.localtime(User.objects.get(pk=world.defendant.pk).real_name_verified_at).strftime("%Y-%m-%d %H:%M")

    for viewer in (world.mediator, world.judge, liaison):
        client.force_login(viewer)
        page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
        assert level_badges(page) == ["mobile", "real_name"]
        assert f"In person, by court staff: {world.mediator}, {when}" in page
        assert "by SMS code" in page


def test_the_scan_opens_for_staff_who_may_check_and_no_one_else(client, world, liaison, outside_judge):
    scan = png_bytes()
    check = record(world, world.mediator, evidence=(scan, "id.png"))
    url = reverse("identity_check_evidence", args=[check.pk])

    for stranger in (world.defendant, world.plaintiff, outside_judge, UserFactory()):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302

    for viewer in (world.mediator, world.judge, liaison):
        client.force_login(viewer)
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == scan
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_a_person_sees_their_own_level_on_their_identity_page(client, world):
    client.force_login(world.defendant)
    page = client.get(reverse("my_identity")).content.decode()
    assert level_badges(page) == ["mobile"]
    assert "138 0013 8002" in page

    record(world, world.mediator)
    page = client.get(reverse("my_identity")).content.decode()
    assert level_badges(page) == ["real_name"]
    assert "110***********" + ID_NUMBER[-4:] in page
    assert ID_NUMBER not in page


def test_the_identity_page_needs_a_sign_in(client):
    response = client.get(reverse("my_identity"))
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_identity_check_is_timestamped_in_the_courts_time_zone(world):
    check = record(world, world.mediator)
    assert abs(timezone.now() - check.verified_at) < dt.timedelta(minutes=1)


def test_a_wrong_verifier_setting_fails_the_system_check_at_start_up(settings):
    from mediation.checks import check_identity_verifier

    assert check_identity_verifier(None) == []
    settings.IDENTITY_VERIFIER = "mediation.identity.no_such_thing"
    errors = check_identity_verifier(None)
    assert [error.id for error in errors] == ["mediation.E010"]
    assert "no_such_thing" in errors[0].msg


def test_the_operator_reads_checks_in_the_admin_without_the_id_number_and_cannot_change_them(client, world):
    check = record(world, world.mediator)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:mediation_identitycheck_changelist"))
    detail = client.get(reverse("admin:mediation_identitycheck_change", args=[check.pk]))

    assert listing.status_code == detail.status_code == 200
    assert ID_NUMBER not in listing.content.decode() + detail.content.decode()
    assert client.get(reverse("admin:mediation_identitycheck_add")).status_code == 403
    client.post(reverse("admin:mediation_identitycheck_delete", args=[check.pk]), {"post": "yes"})
    assert IdentityCheck.objects.filter(pk=check.pk).exists()


def test_a_party_in_person_is_verified_only_with_the_id_number_recorded_for_them(world):
    from mediation.services import cases

    party = cases.add_party(
        case=world.case, actor=world.mediator, side="plaintiff", kind="person", name="周明", id_number=ID_NUMBER
    )
    person = verify_phone(UserFactory(full_name="周明"), "+8613800138009")
    cases.attach_participant(case=world.case, party=party, user=person, role="party", actor=world.mediator)
    other_number = valid_id_number("11010519800101001")

    with pytest.raises(ValidationError) as refused:
        record(world, world.mediator, person=person, full_name="周明", id_number=other_number)

    assert "not the ID number recorded for the party 周明" in refused.value.message_dict["id_number"][0]
    assert_unchanged(person)

    record(world, world.mediator, person=person, full_name="周明", id_number=ID_NUMBER)
    assert User.objects.get(pk=person.pk).identity_level == IdentityLevel.REAL_NAME
