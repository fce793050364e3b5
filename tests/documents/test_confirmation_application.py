"""The parties' joint application for judicial confirmation: who may start it and
every refusal (a stranger, an agent without special authority, an agreement not
sealed, the 30 days passed, a second application), the application as it prints,
each party signing it (and not after the 30 days), the application made once every
party has signed (in the judge's queue, with the time to accept it on the working-day
calendar), withdrawing it, the reminders at 7 and 1 days left (each once, by SMS and
email) and the lapse, the case page's panel and the to-do list.

The sealed agreement is built once for the module, in a transaction rolled back at
its end; each test runs in a savepoint of it."""

import datetime as dt
import io
import re
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from documents.models import CourtDocument, CourtSignature, JudicialConfirmation, PowerOfAttorney
from documents.pki import load_platform_pki
from documents.services import agreements, confirmation, court_documents
from documents.services.storage import read_blob
from documents.todo import party_tasks
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, CalendarDay, CaseEvent, Notification, User
from mediation.roles import Role
from mediation.working_calendar import WorkingCalendar, local_zone
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.court_documents import module_transaction, sealed_agreement, sign, storages_at
from tests.factories import DepartmentFactory, UserFactory, staff
from tests.identities import verify_phone
from tests.test_translations import compiled_catalog  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

Status = JudicialConfirmation.Status


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("confirmation-files")


@pytest.fixture(autouse=True)
def _module_files(settings, _isolated_files_and_keys, module_files):
    settings.STORAGES = storages_at(module_files)


class Built:
    pass


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, module_files, _platform_keys):
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock(), override_settings(STORAGES=storages_at(module_files), **_platform_keys):
            load_platform_pki.cache_clear()
            department = DepartmentFactory(name="Civil C", code="civil-c")
            world = make_case(
                staff(Role.MEDIATOR, department, full_name="Liu Yang"),
                staff(Role.JUDGE, department, full_name="Zhang Wei"),
                label="C",
                agent_authority=True,
            )
            result = Built()
            result.world = world
            result.department = department
            result.agreement = sealed_agreement(world)
            result.head = staff(Role.DEPARTMENT_HEAD, department, full_name="Chen Gang")
            load_platform_pki.cache_clear()
        yield result


def apply(built, actor=None) -> JudicialConfirmation:
    return confirmation.apply_for_confirmation(agreement=built.agreement, actor=actor or built.world.plaintiff)


def slot_of(participant) -> str:
    return f"party-{participant.party_id}"


def sealed_day(built) -> dt.date:
    return timezone.localdate(built.agreement.sealed_at)


def at_local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=local_zone())


# Applying -------------------------------------------------------------------------------------


def test_a_party_applies_and_the_application_names_every_party_for_the_judge(built):
    world = built.world
    with TestCase.captureOnCommitCallbacks(execute=True):
        made = apply(built)

    assert made.status == Status.PREPARING
    assert made.judge == world.judge
    assert made.started_by == world.plaintiff
    assert made.apply_by == sealed_day(built) + dt.timedelta(days=30)
    document = made.application
    assert document.kind == CourtDocument.Kind.CONFIRMATION_APPLICATION
    assert document.status == CourtDocument.Status.AWAITING_SIGNATURES
    assert [entry["slot"] for entry in document.signature_slots] == [
        slot_of(world.plaintiff_participant),
        slot_of(world.defendant_participant),
    ]
    # Codes and parameters, not sentences.
    assert document.content["agreement"]["verification_code"] == built.agreement.verification_code
    assert document.content["terms"] == built.agreement.current_version.content["terms"]
    pages = PdfReader(io.BytesIO(read_blob(document.latest_blob))).pages
    text = "".join("".join(page.extract_text() for page in pages).split())
    assert "司法确认申请书" in text
    for party in world.case.parties.all():
        assert "".join(party.name.split()) in text
    assert built.agreement.verification_code in text
    assert "人民法院" in text
    assert "自愿" in text
    # Everyone is told to sign; the step is on the timeline, in the audit trail and the rooms.
    told = set(Notification.objects.filter(kind="confirmation.sign_application").values_list("recipient", flat=True))
    assert told == {world.plaintiff.pk, world.defendant.pk}
    assert CaseEvent.objects.filter(case=world.case, action="confirmation_start").count() == 1
    assert AuditEntry.objects.filter(action="judicial_confirmation.start", target_id=str(made.pk)).count() == 1
    assert RoomEntry.objects.filter(room=world.joint, kind="confirmation.started").count() == 1


def test_the_mediator_may_start_the_application(built):
    assert apply(built, built.world.mediator).status == Status.PREPARING


def test_a_stranger_and_the_judge_cannot_apply(built):
    for outsider in (UserFactory(), built.world.judge, staff(Role.MEDIATOR, built.department)):
        with pytest.raises(ActionForbidden, match="Only the parties and the case's mediator"):
            apply(built, outsider)
    assert not JudicialConfirmation.objects.exists()


def test_an_agent_without_special_authority_cannot_apply(built):
    PowerOfAttorney.objects.filter(participant=built.world.plaintiff_participant).update(
        status=PowerOfAttorney.Status.REJECTED
    )

    with pytest.raises(ActionForbidden, match="rejected your power of attorney"):
        apply(built)
    assert not JudicialConfirmation.objects.exists()


def test_an_agreement_not_sealed_cannot_be_confirmed(db):
    department = DepartmentFactory(name="Civil D", code="civil-d")
    world = make_case(staff(Role.MEDIATOR, department), staff(Role.JUDGE, department), label="D")
    draft = agreements.start_agreement(case=world.case, actor=world.mediator)

    with pytest.raises(TransitionNotAllowed, match="Only a sealed agreement"):
        confirmation.apply_for_confirmation(agreement=draft, actor=world.defendant)
    assert not JudicialConfirmation.objects.exists()


def test_the_last_day_to_apply_is_included_and_the_day_after_refused(built):
    last_day = sealed_day(built) + dt.timedelta(days=30)
    with time_machine.travel(at_local(last_day + dt.timedelta(days=1)), tick=False):
        with pytest.raises(TransitionNotAllowed, match="The 30 days to apply have passed"):
            apply(built)
        assert not JudicialConfirmation.objects.exists()
    with time_machine.travel(at_local(last_day, 23), tick=False):
        assert apply(built).apply_by == last_day


def test_a_second_application_is_refused_while_one_is_live_or_decided(built):
    first = apply(built)

    with pytest.raises(TransitionNotAllowed, match="already been made"):
        apply(built, built.world.defendant)
    JudicialConfirmation.objects.filter(pk=first.pk).update(status=Status.CONFIRMED)
    with pytest.raises(TransitionNotAllowed, match="already been made"):
        apply(built, built.world.defendant)
    assert JudicialConfirmation.objects.count() == 1


def test_the_database_backs_the_one_live_application_rule(built):
    apply(built)

    with (
        mock.patch.object(confirmation, "application_refusal", return_value=None),
        pytest.raises(TransitionNotAllowed, match="already been made"),
    ):
        apply(built, built.world.defendant)
    assert JudicialConfirmation.objects.count() == 1


def test_after_a_withdrawal_the_parties_may_apply_again(built):
    first = apply(built)
    confirmation.withdraw_confirmation(confirmation=first, actor=built.world.defendant, reason="再协商")

    second = apply(built, built.world.defendant)
    assert second.pk != first.pk
    assert second.status == Status.PREPARING


# Signing and the application made -------------------------------------------------------------


def test_when_every_party_has_signed_the_application_is_made_and_the_judge_told(built):
    world = built.world
    made = apply(built)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant), seed=1)
        assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.PREPARING
        sign(made.application, world.defendant, slot_of(world.defendant_participant), seed=2)

    made.refresh_from_db()
    assert made.status == Status.APPLIED
    assert made.applied_at is not None
    assert made.accept_by == confirmation.accept_by_from(made.applied_at)
    document = CourtDocument.objects.get(pk=made.application_id)
    assert document.status == CourtDocument.Status.SEALED
    sealed_pdf = read_blob(document.sealed_blob)
    report = verify_pdf(sealed_pdf)
    assert report.matches_sealed_original and report.all_valid
    assert report.verification_code == document.verification_code
    assert [s.kind for s in report.signatures] == ["signature", "signature", "seal", "document_timestamp"]
    tampered = bytearray(sealed_pdf)
    tampered[sealed_pdf.index(b"stream\n", 200) + 27] ^= 0x01
    tampered_report = verify_pdf(bytes(tampered))
    assert not tampered_report.matches_sealed_original and not tampered_report.all_valid
    assert [e.action for e in CaseEvent.objects.filter(case=world.case, action__startswith="court_document_")] == [
        "court_document_sign",
        "court_document_sign",
        "court_document_seal",
    ]
    assert list(Notification.objects.filter(kind="confirmation.applied").values_list("recipient", flat=True)) == [
        world.judge.pk
    ]
    assert CaseEvent.objects.filter(case=world.case, action="confirmation_apply").count() == 1
    assert RoomEntry.objects.filter(room=world.joint, kind="confirmation.applied").count() == 1
    assert AuditEntry.objects.filter(action="judicial_confirmation.apply", target_id=str(made.pk)).count() == 1


def test_with_no_judge_the_department_heads_are_told(built):
    made = apply(built)
    JudicialConfirmation.objects.filter(pk=made.pk).update(judge=None)
    world = built.world
    sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant))
    sign(made.application, world.defendant, slot_of(world.defendant_participant))

    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.APPLIED
    assert list(Notification.objects.filter(kind="confirmation.applied").values_list("recipient", flat=True)) == [
        built.head.pk
    ]


def test_the_other_side_cannot_sign_your_place_on_the_application(built):
    made = apply(built)

    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(made.application, built.world.defendant, slot_of(built.world.plaintiff_participant))
    assert not CourtSignature.objects.exists()


def test_signing_after_the_30_days_is_refused(built):
    world = built.world
    made = apply(built)
    with time_machine.travel(at_local(made.apply_by + dt.timedelta(days=1)), tick=False):
        assert court_documents.court_document_signer_slots(made.application, world.plaintiff) == []
        assert "confirmation.sign" not in [task.code for task in party_tasks(world.case, world.plaintiff)]
        with pytest.raises(TransitionNotAllowed, match="The 30 days to apply have passed"):
            sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant))
    assert not CourtSignature.objects.exists()
    with time_machine.travel(at_local(made.apply_by, 22), tick=False):
        sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant))
    assert CourtSignature.objects.count() == 1


def test_the_accept_by_deadline_counts_working_days_on_the_desks_calendar():
    """Arrived on Wednesday 9 December; Thursday 10 and Friday 11 are holidays and
    Saturday 12 is a swapped working day (调休): the three working days are Saturday,
    Monday and Tuesday, so it is accepted by the end of Tuesday 15 December."""
    CalendarDay.objects.create(date=dt.date(2026, 12, 10), is_working_day=False)
    CalendarDay.objects.create(date=dt.date(2026, 12, 11), is_working_day=False)
    CalendarDay.objects.create(date=dt.date(2026, 12, 12), is_working_day=True)
    arrived = at_local(dt.date(2026, 12, 9), 16)

    accept_by = confirmation.accept_by_from(arrived)

    assert accept_by == WorkingCalendar.load().end_of_day(dt.date(2026, 12, 15))
    assert timezone.localtime(accept_by).date() == dt.date(2026, 12, 15)
    # Without the calendar: Thursday, Friday and Monday.
    assert confirmation.accept_by_from(arrived, WorkingCalendar({})).date() == dt.date(2026, 12, 14)


# Withdrawing ----------------------------------------------------------------------------------


def test_a_party_withdraws_before_the_ruling_and_the_application_is_signed_no_further(built):
    world = built.world
    made = apply(built)

    with pytest.raises(ActionForbidden, match="Only a party can withdraw"):
        confirmation.withdraw_confirmation(confirmation=made, actor=world.mediator, reason="x")
    with pytest.raises(ActionForbidden, match="Only a party can withdraw"):
        confirmation.withdraw_confirmation(confirmation=made, actor=UserFactory(), reason="x")
    with pytest.raises(Exception, match="Say why"):
        confirmation.withdraw_confirmation(confirmation=made, actor=world.defendant, reason="  ")
    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.PREPARING

    confirmation.withdraw_confirmation(confirmation=made, actor=world.defendant, reason="双方另行协商")

    made.refresh_from_db()
    assert made.status == Status.WITHDRAWN
    assert made.withdrawn_at is not None
    assert CourtDocument.objects.get(pk=made.application_id).status == CourtDocument.Status.VOID
    with pytest.raises(TransitionNotAllowed):
        sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant))
    event = CaseEvent.objects.get(case=world.case, action="confirmation_withdraw")
    assert event.note == "双方另行协商"
    with pytest.raises(TransitionNotAllowed, match="can no longer be withdrawn"):
        confirmation.withdraw_confirmation(confirmation=made, actor=world.defendant, reason="again")


def test_an_application_with_the_court_can_be_withdrawn_but_not_once_decided(built):
    made = apply(built)
    JudicialConfirmation.objects.filter(pk=made.pk).update(status=Status.ACCEPTED)
    confirmation.withdraw_confirmation(confirmation=made, actor=built.world.plaintiff, reason="已履行")
    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.WITHDRAWN

    other = apply(built, built.world.defendant)
    JudicialConfirmation.objects.filter(pk=other.pk).update(status=Status.CONFIRMED)
    with pytest.raises(TransitionNotAllowed, match="can no longer be withdrawn"):
        confirmation.withdraw_confirmation(confirmation=other, actor=built.world.plaintiff, reason="x")


# Reminders and the lapse ----------------------------------------------------------------------


def texts_to(sms_outbox, user: User) -> list:
    return [message for message in sms_outbox if message.to == str(user.phone)]


def run_sweep() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("follow_up_agreements", stdout=io.StringIO())


def test_the_parties_are_reminded_at_7_and_1_days_left_each_once_then_the_application_lapses(built, sms_outbox):
    world = built.world
    plaintiff = verify_phone(world.plaintiff, "+8613800138201")
    made = apply(built)
    mail.outbox.clear()
    sms_outbox.clear()

    with time_machine.travel(at_local(made.apply_by - dt.timedelta(days=8)), tick=False):
        run_sweep()
    assert texts_to(sms_outbox, plaintiff) == [] and mail.outbox == []

    for days_left in (7, 1):
        with time_machine.travel(at_local(made.apply_by - dt.timedelta(days=days_left)), tick=False):
            run_sweep()
            run_sweep()
        [text] = texts_to(sms_outbox, plaintiff)
        assert f"{days_left}" in text.body and world.case.number in text.body
        mailed = [m for m in mail.outbox if world.case.number in m.body]
        assert sorted(m.to[0] for m in mailed) == sorted([world.plaintiff.email, world.defendant.email])
        sms_outbox.clear()
        mail.outbox.clear()
    made.refresh_from_db()
    assert made.reminders_sent == ["apply_7", "apply_1"]
    assert made.status == Status.PREPARING

    with time_machine.travel(at_local(made.apply_by, 23), tick=False):
        run_sweep()
    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.PREPARING
    with time_machine.travel(at_local(made.apply_by + dt.timedelta(days=1)), tick=False):
        run_sweep()
        run_sweep()
    made.refresh_from_db()
    assert made.status == Status.LAPSED
    assert CourtDocument.objects.get(pk=made.application_id).status == CourtDocument.Status.VOID
    assert CaseEvent.objects.filter(case=world.case, action="confirmation_lapse").count() == 1
    assert AuditEntry.objects.filter(action="judicial_confirmation.lapse", target_id=str(made.pk)).count() == 1
    assert RoomEntry.objects.filter(room=world.joint, kind="confirmation.lapsed").count() == 1
    assert texts_to(sms_outbox, plaintiff) == []


def test_a_sealed_agreement_whose_parties_want_confirmation_gets_the_same_reminders(built, sms_outbox):
    world = built.world
    defendant = verify_phone(world.defendant, "+8613800138202")
    apply_by = confirmation.apply_by_of(built.agreement)

    for days_left in (7, 1):
        with time_machine.travel(at_local(apply_by - dt.timedelta(days=days_left)), tick=False):
            run_sweep()
            run_sweep()
        [text] = texts_to(sms_outbox, defendant)
        assert world.case.number in text.body
        sms_outbox.clear()
    reminders = CaseEvent.objects.filter(case=world.case, action="confirmation_reminder")
    assert sorted(event.data["reminder"] for event in reminders) == ["apply_1", "apply_7"]
    assert all(event.data["agreement"] == built.agreement.pk for event in reminders)
    with time_machine.travel(at_local(apply_by + dt.timedelta(days=1)), tick=False):
        run_sweep()
    assert texts_to(sms_outbox, defendant) == []


def test_no_reminder_when_the_parties_did_not_want_confirmation(built, sms_outbox):
    version = built.agreement.current_version
    version.content = {**version.content, "judicial_confirmation": False}
    version.save(update_fields=["content"])
    defendant = verify_phone(built.world.defendant, "+8613800138203")
    apply_by = confirmation.apply_by_of(built.agreement)

    with time_machine.travel(at_local(apply_by - dt.timedelta(days=1)), tick=False):
        run_sweep()
    assert texts_to(sms_outbox, defendant) == []


# The case page and the to-do list -------------------------------------------------------------


def panel_of(client, user, case) -> str:
    client.force_login(user)
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200
    return page.content.decode()


def test_the_case_page_shows_the_time_left_and_the_button_to_apply_to_who_may(client, built):
    world = built.world
    apply_by = confirmation.apply_by_of(built.agreement)
    with time_machine.travel(at_local(apply_by - dt.timedelta(days=12)), tick=False):
        page = panel_of(client, world.defendant, world.case)
        assert "data-confirmation-panel" in page
        assert f"12 days left to apply, until {apply_by:%Y-%m-%d}" in page
        assert "data-apply-form" in page
        assert "data-apply-form" not in panel_of(client, world.judge, world.case)
        assert "data-confirmation-panel" in panel_of(client, world.judge, world.case)


def test_the_to_do_list_and_the_panel_ask_each_party_to_sign_in_turn(client, built):
    world = built.world
    response = client.post(reverse("confirmation_apply", args=[built.agreement.pk]))
    # Signed out: sent to sign in, nothing made.
    assert response.status_code == 302
    assert not JudicialConfirmation.objects.exists()
    client.force_login(world.plaintiff)
    response = client.post(reverse("confirmation_apply", args=[built.agreement.pk]))
    assert response.status_code == 302
    made = JudicialConfirmation.objects.get()

    for user in (world.plaintiff, world.defendant):
        assert "confirmation.sign" in [task.code for task in party_tasks(world.case, user)]
        page = panel_of(client, user, world.case)
        assert "data-sign-application" in page
        assert "data-withdraw-form" in page
    sign(made.application, world.plaintiff, slot_of(world.plaintiff_participant))
    assert "confirmation.sign" not in [task.code for task in party_tasks(world.case, world.plaintiff)]
    assert "data-sign-application" not in panel_of(client, world.plaintiff, world.case)
    page = panel_of(client, world.defendant, world.case)
    assert "data-sign-application" in page
    assert f'data-place="{slot_of(world.plaintiff_participant)}" data-signed="yes"' in page


def test_a_stranger_cannot_apply_or_withdraw_through_the_pages(client, built):
    made = apply(built)
    client.force_login(UserFactory())

    assert client.post(reverse("confirmation_apply", args=[built.agreement.pk])).status_code == 404
    assert client.post(reverse("confirmation_withdraw", args=[made.pk]), {"reason": "x"}).status_code == 404
    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.PREPARING
    assert JudicialConfirmation.objects.count() == 1


def test_the_mediator_cannot_withdraw_through_the_page(client, built):
    made = apply(built)
    client.force_login(built.world.mediator)

    response = client.post(reverse("confirmation_withdraw", args=[made.pk]), {"reason": "x"})

    assert response.status_code == 403
    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.PREPARING


def test_a_party_withdraws_through_the_page(client, built):
    made = apply(built)
    client.force_login(built.world.defendant)

    refused = client.post(reverse("confirmation_withdraw", args=[made.pk]), {"reason": ""}, follow=True)
    assert "Say why" in refused.content.decode()
    client.post(reverse("confirmation_withdraw", args=[made.pk]), {"reason": "另行协商"})

    assert JudicialConfirmation.objects.get(pk=made.pk).status == Status.WITHDRAWN


def test_the_sms_reminder_template_reads_in_chinese(built, sms_outbox):
    world = built.world
    plaintiff = verify_phone(world.plaintiff, "+8613800138204")
    User.objects.filter(pk=plaintiff.pk).update(language="zh-hans")
    made = apply(built)
    with time_machine.travel(at_local(made.apply_by - dt.timedelta(days=7)), tick=False):
        run_sweep()
    [text] = texts_to(sms_outbox, plaintiff)
    assert re.search(r"司法确认", text.body)


def test_the_application_page_shows_what_it_says_in_the_readers_language(client, built, compiled_catalog):  # noqa: F811
    world = built.world
    made = apply(built)
    User.objects.filter(pk=world.defendant.pk).update(language="zh-hans")
    client.force_login(world.defendant)

    page = client.get(reverse("court_document_sign", args=[made.application_id]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "data-application-reading" in text
    assert "司法确认申请书" in text
    assert "请求确认申请人" in text
    assert "银行转账" in text
    apply_by = made.apply_by
    with time_machine.travel(at_local(apply_by - dt.timedelta(days=3)), tick=False):
        client.force_login(world.defendant)
        case_page = client.get(reverse("case_detail", args=[world.case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    panel = case_page.content.decode()
    assert f"距申请截止还有3天，截止日期为{apply_by:%Y-%m-%d}" in panel
    assert "签署申请书" in panel
