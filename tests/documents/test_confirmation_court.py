"""The court's side of judicial confirmation: the queue and its assignment, accepting
(with a 民特 number) or declining, reviews, the one extension, the ruling's draft, the
deadline alerts, the ways on after a rejection, and the case API's field."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from documents.models import Agreement
from documents.models.confirmation import ConfirmationReview, JudicialConfirmation
from documents.services import confirmation_court as court
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, CaseEvent, MediationCase, MediationSession, NotificationPreference
from mediation.roles import Role
from mediation.services import cases, sessions
from rooms.models import Room, RoomEntry
from tests.confirmations import applied, decided, settled_case
from tests.factories import staff

pytestmark = pytest.mark.django_db

Status = JudicialConfirmation.Status


@pytest.fixture
def settled(mediator, judge):
    return settled_case(mediator, judge)


@pytest.fixture
def confirmation(settled):
    return applied(settled)


def fresh(confirmation) -> JudicialConfirmation:
    return JudicialConfirmation.objects.select_related("case").get(pk=confirmation.pk)


def accepted(confirmation, judge) -> JudicialConfirmation:
    return court.accept_confirmation(confirmation=confirmation, actor=judge)


def audit_of(confirmation, action) -> AuditEntry:
    return AuditEntry.objects.filter(action=f"confirmation.{action}", target_id=str(confirmation.pk)).latest("id")


# Accepting ------------------------------------------------------------------------------------


def test_the_cases_judge_accepts_and_the_application_gets_its_own_case_number_and_time_to_decide(
    confirmation, judge, settled
):
    with time_machine.travel(dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)):
        # 07:30 on 8 December in Beijing: the local date counts.
        confirmation = accepted(confirmation, judge)
    confirmation = fresh(confirmation)
    assert confirmation.status == Status.ACCEPTED
    assert confirmation.case_number == "(2026)京0107民特1号"
    assert confirmation.decide_by == dt.date(2026, 12, 8) + dt.timedelta(days=15)
    assert confirmation.judge == judge
    assert audit_of(confirmation, "accept").data["late"] is False
    assert CaseEvent.objects.filter(case=settled.world.case, action="confirmation.accept").exists()
    # The parties are told.
    assert settled.world.plaintiff.notifications.filter(kind="confirmation.accepted").exists()


def test_the_minte_numbers_count_per_year(mediator, judge):
    first = applied(settled_case(mediator, judge, label="A"))
    second = applied(settled_case(mediator, judge, label="B"))
    third = applied(settled_case(mediator, judge, label="C"))
    with time_machine.travel(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)):
        assert accepted(first, judge).case_number == "(2026)京0107民特1号"
        assert accepted(second, judge).case_number == "(2026)京0107民特2号"
    with time_machine.travel(dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC)):
        assert accepted(third, judge).case_number == "(2027)京0107民特1号"


def test_accepting_after_accept_by_is_allowed_and_recorded_late(settled, judge):
    confirmation = applied(settled, accept_by=timezone.now() - dt.timedelta(hours=1))
    confirmation = accepted(confirmation, judge)
    assert fresh(confirmation).status == Status.ACCEPTED
    assert audit_of(confirmation, "accept").data["late"] is True


@pytest.mark.parametrize("who", ["other_judge", "head", "mediator", "plaintiff", "nobody"])
def test_only_the_applications_judge_accepts(confirmation, settled, people, who):
    actor = settled.world.plaintiff if who == "plaintiff" else people[who]
    with pytest.raises(ActionForbidden):
        court.accept_confirmation(confirmation=confirmation, actor=actor)
    assert fresh(confirmation).status == Status.APPLIED
    assert fresh(confirmation).case_number == ""


def test_an_application_is_accepted_once(confirmation, judge):
    accepted(confirmation, judge)
    with pytest.raises(TransitionNotAllowed):
        court.accept_confirmation(confirmation=confirmation, actor=judge)
    assert fresh(confirmation).case_number == "(2026)京0107民特1号"


def test_declining_needs_a_reason_and_is_final(confirmation, judge, settled):
    with pytest.raises(ValidationError) as error:
        court.decline_confirmation(confirmation=confirmation, actor=judge, reason="  ")
    assert "reason" in error.value.message_dict
    assert fresh(confirmation).status == Status.APPLIED
    court.decline_confirmation(confirmation=confirmation, actor=judge, reason="不属于本院管辖。")
    confirmation = fresh(confirmation)
    assert confirmation.status == Status.NOT_ACCEPTED
    assert confirmation.decline_reason == "不属于本院管辖。"
    assert settled.world.defendant.notifications.filter(kind="confirmation.not_accepted").exists()
    with pytest.raises(TransitionNotAllowed):
        court.accept_confirmation(confirmation=confirmation, actor=judge)


# Before accepting: nothing else ---------------------------------------------------------------


def test_a_judge_cannot_review_extend_or_decide_before_accepting(confirmation, judge):
    attempts = [
        lambda: court.record_review(
            confirmation=confirmation, actor=judge, kind="file", held_at=timezone.now(), note="审阅卷宗"
        ),
        lambda: court.extend_decision(confirmation=confirmation, actor=judge, days=5, reason="需要补充材料"),
        lambda: court.draft_ruling(confirmation=confirmation, actor=judge, decision="confirm"),
    ]
    for attempt in attempts:
        with pytest.raises(TransitionNotAllowed) as error:
            attempt()
        assert error.value.code == "not_accepted_yet"
        assert "Accept the application first" in error.value.message
    confirmation = fresh(confirmation)
    assert confirmation.status == Status.APPLIED
    assert confirmation.decision == ""
    assert confirmation.extension_days is None
    assert not confirmation.reviews.exists()


# Reviews ---------------------------------------------------------------------------------------


def test_the_judge_records_reviews(confirmation, judge, settled):
    accepted(confirmation, judge)
    # Held once the application was made (a review cannot be older than it).
    held = fresh(confirmation).applied_at + dt.timedelta(seconds=1)
    review = court.record_review(
        confirmation=confirmation, actor=judge, kind="file", held_at=held, note="双方确认协议系自愿达成。"
    )
    assert review.held_at == held and review.recorded_by == judge
    assert CaseEvent.objects.filter(case=settled.world.case, action="confirmation.review").exists()


def test_a_review_needs_its_record_a_past_time_and_a_session_of_the_case(confirmation, judge, mediator):
    accepted(confirmation, judge)
    other = settled_case(mediator, judge, label="Z")
    other_session = MediationSession.objects.create(
        case=other.world.case, starts_at=timezone.now(), duration_minutes=30, created_by=mediator
    )
    refusals = [
        ({"kind": "file", "held_at": timezone.now(), "note": ""}, "note"),
        ({"kind": "file", "held_at": timezone.now() + dt.timedelta(days=1), "note": "x"}, "held_at"),
        ({"kind": "phone", "held_at": timezone.now(), "note": "x"}, "kind"),
        ({"kind": "session", "held_at": timezone.now(), "note": "x", "session": other_session}, "session"),
    ]
    for arguments, field in refusals:
        with pytest.raises(ValidationError) as error:
            court.record_review(confirmation=confirmation, actor=judge, **arguments)
        assert field in error.value.message_dict
    assert not ConfirmationReview.objects.exists()


def test_a_party_cannot_record_a_review(confirmation, judge, settled):
    accepted(confirmation, judge)
    with pytest.raises(ActionForbidden):
        court.record_review(
            confirmation=confirmation, actor=settled.world.plaintiff, kind="file", held_at=timezone.now(), note="x"
        )
    assert not ConfirmationReview.objects.exists()


def test_the_reviewing_judge_schedules_a_session_in_the_settled_case_and_the_mediator_no_longer_can(
    confirmation, judge, mediator, settled
):
    starts = timezone.now() + dt.timedelta(days=1)
    # Not before accepting.
    with pytest.raises(TransitionNotAllowed):
        court.schedule_review_session(confirmation=confirmation, actor=judge, starts_at=starts)
    accepted(confirmation, judge)
    session = court.schedule_review_session(confirmation=confirmation, actor=judge, starts_at=starts, note="询问")
    assert session.case_id == settled.world.case.pk and session.room_kind == "joint"
    assert settled.world.plaintiff.notifications.filter(kind="session.scheduled").exists()
    # The judge runs it; the mediator's scheduling rule is for the open case only.
    sessions.start_session(session=session, actor=judge)
    with pytest.raises(ActionForbidden):
        sessions.schedule_session(case=settled.world.case, actor=mediator, starts_at=starts)


def test_the_judge_reopens_the_joint_room_to_question_the_parties(confirmation, judge, settled):
    accepted(confirmation, judge)
    joint = settled.world.joint
    Room.objects.filter(pk=joint.pk).update(closed_at=timezone.now())
    court.start_review_in_room(confirmation=confirmation, actor=judge)
    joint.refresh_from_db()
    assert joint.closed_at is None and joint.closes_at is None
    kinds = list(RoomEntry.objects.filter(room=joint).order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == ["room.reopened", "confirmation.review_started"]


# Extension ---------------------------------------------------------------------------------------


def test_the_time_to_decide_is_extended_once_with_a_reason(confirmation, judge, settled):
    confirmation = accepted(confirmation, judge)
    decide_by = fresh(confirmation).decide_by
    for days, reason, field in [(11, "补充材料", "days"), (0, "补充材料", "days"), (5, " ", "reason")]:
        with pytest.raises(ValidationError) as error:
            court.extend_decision(confirmation=confirmation, actor=judge, days=days, reason=reason)
        assert field in error.value.message_dict
    assert fresh(confirmation).decide_by == decide_by
    court.extend_decision(confirmation=confirmation, actor=judge, days=10, reason="需要询问案外人")
    confirmation = fresh(confirmation)
    assert confirmation.decide_by == decide_by + dt.timedelta(days=10)
    assert confirmation.extension_days == 10 and confirmation.extended_by == judge
    assert audit_of(confirmation, "extend").data["new"] == confirmation.decide_by.isoformat()
    assert CaseEvent.objects.filter(case=settled.world.case, action="confirmation.extend").exists()
    with pytest.raises(TransitionNotAllowed):
        court.extend_decision(confirmation=confirmation, actor=judge, days=1, reason="再次延长")
    assert fresh(confirmation).decide_by == decide_by + dt.timedelta(days=10)


# The ruling's draft: refusals before anything is laid out -------------------------------------


def test_rejecting_needs_a_ground_and_reasons(confirmation, judge):
    accepted(confirmation, judge)
    with pytest.raises(ValidationError) as error:
        court.draft_ruling(confirmation=confirmation, actor=judge, decision="reject", ground="", note="理由")
    assert "ground" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        court.draft_ruling(confirmation=confirmation, actor=judge, decision="reject", ground="sham", note="")
    assert "note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        court.draft_ruling(confirmation=confirmation, actor=judge, decision="maybe")
    assert "decision" in error.value.message_dict
    assert fresh(confirmation).ruling_id is None


def test_another_judge_cannot_draft_the_ruling(confirmation, judge, other_judge):
    accepted(confirmation, judge)
    with pytest.raises(ActionForbidden):
        court.draft_ruling(confirmation=confirmation, actor=other_judge, decision="confirm")
    assert fresh(confirmation).ruling_id is None


# Assignment ---------------------------------------------------------------------------------------


def test_the_department_head_assigns_a_judge_of_the_department(confirmation, head, judge, other_judge):
    court.assign_judge(confirmation=confirmation, actor=head, judge=other_judge)
    confirmation = fresh(confirmation)
    assert confirmation.judge == other_judge and confirmation.assigned_by == head
    assert other_judge.notifications.filter(kind="confirmation.assigned").exists()
    # The case's judge no longer decides it; the assigned one does.
    with pytest.raises(ActionForbidden):
        court.accept_confirmation(confirmation=confirmation, actor=judge)
    assert accepted(confirmation, other_judge).status == Status.ACCEPTED


def test_the_assigned_judge_becomes_the_cases_judge_and_questions_the_parties_in_the_joint_room(
    confirmation, head, judge, other_judge
):
    from rooms.membership import member_of
    from rooms.services import reopen_for_follow_up

    court.assign_judge(confirmation=confirmation, actor=head, judge=other_judge)
    case = MediationCase.objects.get(pk=confirmation.case_id)
    assert case.judge == other_judge
    joint = Room.objects.get(case=case, kind="joint")
    assert member_of(other_judge, joint) is not None
    assert member_of(judge, joint) is None
    accepted(confirmation, other_judge)
    joint.closed_at = timezone.now()
    joint.save(update_fields=["closed_at"])
    reopen_for_follow_up(room=joint, actor=other_judge, reason="judicial_review")
    assert not Room.objects.get(pk=joint.pk).is_closed


def test_assignment_refusals(confirmation, head, judge, outside_judge, other_department, mediator):
    with pytest.raises(ValidationError):
        court.assign_judge(confirmation=confirmation, actor=head, judge=outside_judge)
    with pytest.raises(ValidationError):
        court.assign_judge(confirmation=confirmation, actor=head, judge=mediator)
    with pytest.raises(ActionForbidden):
        court.assign_judge(confirmation=confirmation, actor=judge, judge=judge)
    other_head = staff(Role.DEPARTMENT_HEAD, other_department)
    with pytest.raises(ActionForbidden):
        court.assign_judge(confirmation=confirmation, actor=other_head, judge=outside_judge)
    # Still the case's judge's, as it arrived.
    assert fresh(confirmation).judge == judge and fresh(confirmation).assigned_by is None


# Pages --------------------------------------------------------------------------------------------


def test_the_judges_queue_lists_their_applications_with_deadlines_and_overdue_in_words(
    client, settled, judge, mediator
):
    late = applied(settled, accept_by=timezone.now() - dt.timedelta(hours=1))
    client.force_login(judge)
    response = client.get(reverse("confirmation_queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-confirmation="{late.pk}"' in body
    assert settled.world.case.number in body
    assert 'data-overdue="accept"' in body and "Overdue: not accepted in time" in body
    assert "data-assign-form" not in body
    # The navigation leads there.
    assert reverse("confirmation_queue") in client.get(reverse("home"), follow=True).content.decode()


def test_another_judge_does_not_see_the_application_in_their_queue_or_page(client, confirmation, other_judge):
    client.force_login(other_judge)
    assert f'data-confirmation="{confirmation.pk}"' not in client.get(reverse("confirmation_queue")).content.decode()
    assert client.get(reverse("confirmation_detail", args=[confirmation.pk])).status_code == 404
    response = client.post(reverse("confirmation_action", args=[confirmation.pk, "accept"]))
    assert response.status_code == 404
    assert fresh(confirmation).status == Status.APPLIED


def test_the_department_head_sees_the_departments_applications_and_assigns_from_the_queue(
    client, confirmation, head, other_judge
):
    client.force_login(head)
    body = client.get(reverse("confirmation_queue")).content.decode()
    assert f'data-confirmation="{confirmation.pk}"' in body and "data-assign-form" in body
    response = client.post(reverse("confirmation_action", args=[confirmation.pk, "assign"]), {"judge": other_judge.pk})
    assert response.status_code == 302
    assert fresh(confirmation).judge == other_judge


@pytest.mark.parametrize("who", ["mediator", "liaison", "nobody", "plaintiff"])
def test_others_have_no_queue(client, settled, people, who):
    client.force_login(settled.world.plaintiff if who == "plaintiff" else people[who])
    assert client.get(reverse("confirmation_queue")).status_code == 403


def test_a_party_cannot_act_on_the_courts_page(client, confirmation, settled):
    client.force_login(settled.world.plaintiff)
    assert client.get(reverse("confirmation_detail", args=[confirmation.pk])).status_code == 404
    assert client.post(reverse("confirmation_action", args=[confirmation.pk, "accept"])).status_code == 404
    assert fresh(confirmation).status == Status.APPLIED


def test_the_judge_accepts_on_the_page_and_a_review_before_accepting_is_refused_with_409(client, confirmation, judge):
    client.force_login(judge)
    url = reverse("confirmation_action", args=[confirmation.pk, "extend"])
    response = client.post(url, {"days": 5, "reason": "补充材料"})
    assert response.status_code == 409
    assert "Accept the application first" in response.content.decode()
    response = client.post(reverse("confirmation_action", args=[confirmation.pk, "accept"]))
    assert response.status_code == 302
    assert fresh(confirmation).case_number == "(2026)京0107民特1号"
    response = client.post(reverse("confirmation_action", args=[confirmation.pk, "decline"]), {"reason": "x"})
    assert response.status_code == 409
    response = client.post(url, {"days": 30, "reason": "补充材料"})
    assert response.status_code == 400
    assert fresh(confirmation).extension_days is None


# Deadline alerts -----------------------------------------------------------------------------------


def test_the_deadline_alerts_go_once_each_to_the_judge_and_the_department_head(
    settled, judge, head, sms_outbox, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=judge, topic="deadlines", sms=True, email=True)
    type(judge).objects.filter(pk=judge.pk).update(phone="+8613800138000", phone_verified_at=timezone.now())
    confirmation = applied(settled, accept_by=timezone.now() - dt.timedelta(minutes=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert court.alert_confirmation_deadlines() == {"accept_overdue": 1, "decide_overdue": 0}
        assert court.alert_confirmation_deadlines() == {"accept_overdue": 0, "decide_overdue": 0}
    assert sorted(address for message in mail.outbox for address in message.to) == sorted([judge.email, head.email])
    assert [str(message.to) for message in sms_outbox] == ["+8613800138000"]
    assert fresh(confirmation).reminders_sent == ["accept_overdue"]

    accepted(confirmation, judge)
    mail.outbox.clear()
    sms_outbox.clear()
    assert court.alert_confirmation_deadlines() == {"accept_overdue": 0, "decide_overdue": 0}
    later = timezone.now() + dt.timedelta(days=17)
    with django_capture_on_commit_callbacks(execute=True):
        assert court.alert_confirmation_deadlines(now=later) == {"accept_overdue": 0, "decide_overdue": 1}
        assert court.alert_confirmation_deadlines(now=later) == {"accept_overdue": 0, "decide_overdue": 0}
    assert len(mail.outbox) == 2 and len(sms_outbox) == 1
    assert judge.notifications.filter(kind="confirmation.decide_overdue").count() == 1


def test_the_follow_up_command_runs_the_alerts(settled, capsys):
    applied(settled, accept_by=timezone.now() - dt.timedelta(minutes=1))
    call_command("follow_up_agreements")
    assert "accept_overdue: 1" in capsys.readouterr().out


# After a rejection ---------------------------------------------------------------------------------


def test_the_mediator_resumes_mediation_after_a_rejection(settled, judge, mediator):
    confirmation = decided(accepted(applied(settled), judge), Status.REJECTED)
    case = settled.world.case
    Room.objects.filter(case=case).update(closes_at=timezone.now() - dt.timedelta(hours=1))
    Room.objects.filter(case=case, kind="caucus_plaintiff").update(closed_at=timezone.now())
    agreement = court.resume_mediation_after_rejection(case=case, actor=mediator)
    case.refresh_from_db()
    assert case.status == MediationCase.Status.IN_MEDIATION
    assert not Room.objects.filter(case=case).exclude(closed_at=None, closes_at=None).exists()
    assert agreement.pk != settled.agreement.pk and agreement.status == Agreement.Status.DRAFT
    sealed_content = settled.agreement.current_version.content
    assert agreement.current_version.content["terms"] == sealed_content["terms"]
    assert agreement.current_version.content["facts"] == sealed_content["facts"]
    assert CaseEvent.objects.filter(case=case, action="resume", from_status="settled").exists()
    assert fresh(confirmation).status == Status.REJECTED


def test_resuming_is_refused_unless_the_court_rejected_and_only_to_the_mediator(settled, judge, mediator):
    case = settled.world.case
    with pytest.raises(TransitionNotAllowed):
        court.resume_mediation_after_rejection(case=case, actor=mediator)
    confirmation = accepted(applied(settled), judge)
    with pytest.raises(TransitionNotAllowed):
        court.resume_mediation_after_rejection(case=case, actor=mediator)
    decided(confirmation, Status.CONFIRMED)
    with pytest.raises(TransitionNotAllowed):
        court.resume_mediation_after_rejection(case=case, actor=mediator)
    JudicialConfirmation.objects.filter(pk=confirmation.pk).update(status=Status.REJECTED)
    for outsider in (judge, settled.world.plaintiff):
        with pytest.raises(ActionForbidden):
            court.resume_mediation_after_rejection(case=case, actor=outsider)
    case.refresh_from_db()
    assert case.status == MediationCase.Status.SETTLED
    assert case.agreements.count() == 1


def test_going_to_court_is_open_to_a_settled_case_only_after_a_rejection(settled, judge):
    case = settled.world.case
    confirmation = accepted(applied(settled), judge)
    decided(confirmation, Status.CONFIRMED)
    with pytest.raises(TransitionNotAllowed):
        cases.transfer_to_filing(case=case, actor=judge, filed_case_number="(2026)京0107民初100号")
    JudicialConfirmation.objects.filter(pk=confirmation.pk).update(status=Status.REJECTED)
    cases.transfer_to_filing(case=case, actor=judge, filed_case_number="(2026)京0107民初100号")
    case.refresh_from_db()
    assert case.filed_case_number == "(2026)京0107民初100号"


def test_the_case_page_offers_the_ways_on_after_a_rejection(client, settled, judge, mediator):
    case = settled.world.case
    decided(accepted(applied(settled), judge), Status.REJECTED)
    client.force_login(mediator)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'data-court-confirmation="rejected"' in body and 'data-action="resume"' in body
    assert reverse("case_action", args=[case.pk, "transfer_to_filing"]) in body
    client.force_login(settled.world.plaintiff)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "data-rejection-options" in body and 'data-action="resume"' not in body
    response = client.post(reverse("resume_after_rejection", args=[case.pk]))
    assert response.status_code == 403
    client.force_login(mediator)
    response = client.post(reverse("resume_after_rejection", args=[case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == MediationCase.Status.IN_MEDIATION


def test_resuming_leaves_the_work_order_consistent(people, judge, mediator):
    from tests.workflows import order_in_state

    order = order_in_state(
        "in_progress", {"liaison": people["liaison"], "dept_liaison": people["dept_liaison"], "judge": judge}
    )
    settled = settled_case(mediator, judge, work_order=order)
    order.refresh_from_db()
    # Settling restarted the order's clock; the order still owes the requester an answer.
    assert order.status == "in_progress" and not order.is_in_mediation_pause
    decided(accepted(applied(settled), judge), Status.REJECTED)
    court.resume_mediation_after_rejection(case=settled.world.case, actor=mediator)
    order.refresh_from_db()
    actions = list(order.events.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["mediation_resumed", "pause_for_mediation"]
    # Its clock is stopped again for the mediation, in the same state.
    assert order.status == "in_progress" and order.is_in_mediation_pause


# The case API --------------------------------------------------------------------------------------


def test_the_case_api_gives_the_judicial_confirmation(client, settled, judge):
    case = settled.world.case
    client.force_login(settled.world.plaintiff)
    url = f"/api/v1/cases/{case.pk}/"
    assert client.get(url).json()["judicial_confirmation"] is None
    confirmation = applied(settled)
    shown = client.get(url).json()["judicial_confirmation"]
    assert shown == {
        "status": "applied",
        "case_number": None,
        "applied_at": shown["applied_at"],
        "decided_at": None,
        "ruling_pdf_url": None,
        "verification_code": None,
    }
    assert shown["applied_at"] is not None
    accepted(confirmation, judge)
    shown = client.get(url).json()["judicial_confirmation"]
    assert shown["status"] == "accepted" and shown["case_number"] == "(2026)京0107民特1号"


def test_a_stranger_gets_no_case_from_the_api(client, settled, confirmation, nobody):
    client.force_login(nobody)
    assert client.get(f"/api/v1/cases/{settled.world.case.pk}/").status_code == 404


# The ruling, signed by the judge through the court documents layer ----------------------------


def consent_both(settled):
    from documents.services.serving import record_consent

    for user in (settled.world.plaintiff, settled.world.defendant):
        record_consent(case=settled.world.case, user=user)


def test_the_judge_confirms_and_the_sealed_ruling_is_served_on_both_parties(client, settled, judge):
    from documents.models import Document, Service
    from documents.services.serving import proof_of_service
    from documents.services.storage import read_blob
    from documents.verification import verify_pdf

    consent_both(settled)
    confirmation = accepted(applied(settled), judge)
    ruling = court.draft_ruling(confirmation=confirmation, actor=judge, decision="confirm")
    assert ruling.kind == "ruling" and ruling.status == "awaiting"
    assert ruling.signature_slots == [{"slot": "judge", "role": "judge", "user": judge.pk, "name": str(judge)}]
    assert ruling.content["decision"] == "confirm" and ruling.content["case_number"] == "(2026)京0107民特1号"
    assert [a["name"] for a in ruling.content["applicants"]] == [
        "Shanghai Culture Media A",
        "Beijing Tech A",
    ]
    # Nobody else signs it; the judge does, on the sign page's rule.
    from documents.services.court_documents import court_document_signer_slots

    assert court_document_signer_slots(ruling, settled.world.mediator) == []
    assert [e["slot"] for e in court_document_signer_slots(ruling, judge)] == ["judge"]

    # The sign page says what the ruling decides, in the reader's language.
    client.force_login(judge)
    page = client.get(reverse("court_document_sign", args=[ruling.pk])).content.decode()
    assert "data-ruling-reading" in page and "Confirm the agreement valid" in page
    from tests.court_documents import sign

    sign(ruling, judge, "judge")
    confirmation = fresh(confirmation)
    ruling = confirmation.ruling
    assert ruling.is_sealed
    assert confirmation.status == Status.CONFIRMED and confirmation.decided_at is not None
    assert audit_of(confirmation, "rule").data["late"] is False

    # The sealed ruling: the judge's signature, the court's seal and the timestamp, valid.
    pdf = read_blob(ruling.sealed_blob)
    report = verify_pdf(pdf)
    assert report.all_valid and report.matches_sealed_original
    assert report.verification_code == ruling.verification_code
    assert [s.kind for s in report.signatures] == ["signature", "seal", "document_timestamp"]

    # In the case's documents, and served on each party with a proof of service.
    document = Document.objects.get(case=settled.world.case, kind=Document.Kind.RULING)
    assert document.blob_id == ruling.sealed_blob_id and document.uploaded_by == judge
    services = Service.objects.filter(case=settled.world.case).order_by("recipient_id")
    assert sorted(s.recipient_id for s in services) == sorted([settled.world.plaintiff.pk, settled.world.defendant.pk])
    assert all(s.status == Service.Status.DELIVERED and s.created_by == judge for s in services)
    assert proof_of_service(services[0], for_court=True).startswith(b"%PDF")
    for party in (settled.world.plaintiff, settled.world.defendant):
        assert party.notifications.filter(kind="confirmation.ruling_arrived").exists()
    entries = RoomEntry.objects.filter(room=settled.world.joint, kind="confirmation.ruled")
    assert [e.data["decision"] for e in entries] == ["confirm"]

    # Followed through the API, and its PDF for the parties.
    client.force_login(settled.world.plaintiff)
    shown = client.get(f"/api/v1/cases/{settled.world.case.pk}/").json()["judicial_confirmation"]
    assert shown["status"] == "confirmed" and shown["verification_code"] == ruling.verification_code
    assert shown["decided_at"] is not None
    assert shown["ruling_pdf_url"].endswith(reverse("court_document_pdf", args=[ruling.pk, "sealed"]))
    assert client.get(shown["ruling_pdf_url"]).status_code == 200

    # A tampered copy is rejected at /verify/.
    from django.core.files.uploadedfile import SimpleUploadedFile

    start = pdf.index(b"stream\n", 200) + len(b"stream\n") + 20
    tampered = bytearray(pdf)
    tampered[start] ^= 0x01
    body = client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile("ruling.pdf", bytes(tampered), "application/pdf")},
        headers={"Accept": "application/json"},
    ).json()
    assert body["matches_sealed_original"] is False and body["all_valid"] is False


def test_a_rejection_is_drafted_again_signed_and_leaves_the_case_its_ways_on(settled, judge, mediator):
    consent_both(settled)
    confirmation = accepted(applied(settled), judge)
    first = court.draft_ruling(confirmation=confirmation, actor=judge, decision="confirm")
    second = court.draft_ruling(
        confirmation=confirmation, actor=judge, decision="reject", ground="sham", note="双方恶意串通，规避债务。"
    )
    first.refresh_from_db()
    assert first.status == "void" and second.status == "awaiting"
    assert second.content["ground"] == "sham" and second.content["note"] == "双方恶意串通，规避债务。"
    from tests.court_documents import sign

    # The void draft cannot be signed.
    with pytest.raises(TransitionNotAllowed):
        sign(first, judge, "judge")
    sign(second, judge, "judge")
    confirmation = fresh(confirmation)
    assert confirmation.status == Status.REJECTED
    assert confirmation.rejection_ground == "sham"
    # The parties may amend the agreement through mediation.
    agreement = court.resume_mediation_after_rejection(case=settled.world.case, actor=mediator)
    assert agreement.status == Agreement.Status.DRAFT
    settled.world.case.refresh_from_db()
    assert settled.world.case.status == MediationCase.Status.IN_MEDIATION


def test_deciding_late_is_recorded_and_a_party_without_consent_is_left_to_other_means(settled, judge):
    from documents.models import Service

    confirmation = accepted(applied(settled), judge)
    JudicialConfirmation.objects.filter(pk=confirmation.pk).update(
        decide_by=timezone.localdate() - dt.timedelta(days=1)
    )
    from documents.services.serving import record_consent
    from tests.court_documents import sign

    record_consent(case=settled.world.case, user=settled.world.plaintiff)
    ruling = court.draft_ruling(confirmation=fresh(confirmation), actor=judge, decision="confirm")
    sign(ruling, judge, "judge")
    confirmation = fresh(confirmation)
    assert confirmation.status == Status.CONFIRMED
    data = audit_of(confirmation, "rule").data
    assert data["late"] is True and data["not_served"] == [settled.world.defendant.pk]
    assert list(Service.objects.values_list("recipient_id", flat=True)) == [settled.world.plaintiff.pk]
    assert judge.notifications.filter(kind="confirmation.serve_by_other_means").exists()


def test_only_the_applications_judge_questions_the_parties(confirmation, judge, other_judge, settled):
    accepted(confirmation, judge)
    starts = timezone.now() + dt.timedelta(days=1)
    for outsider in (other_judge, settled.world.mediator, settled.world.plaintiff):
        with pytest.raises(ActionForbidden):
            court.start_review_in_room(confirmation=confirmation, actor=outsider)
        with pytest.raises(ActionForbidden):
            court.schedule_review_session(confirmation=confirmation, actor=outsider, starts_at=starts)
        # Nor through the sessions service directly.
        with pytest.raises(ActionForbidden):
            sessions.schedule_session(case=settled.world.case, actor=outsider, starts_at=starts)
    assert not MediationSession.objects.filter(case=settled.world.case).exists()
    assert not RoomEntry.objects.filter(kind="confirmation.review_started").exists()


def test_the_parties_panel_links_the_ruling_only_once_the_judge_has_signed_and_sealed_it(settled, judge):
    from documents.selectors import confirmation_panel
    from tests.court_documents import sign

    confirmation = accepted(applied(settled), judge)
    court.draft_ruling(confirmation=confirmation, actor=judge, decision="confirm")
    assert confirmation_panel(settled.world.case, settled.world.plaintiff)["ruling"] is None

    sign(fresh(confirmation).ruling, judge, "judge")
    panel = confirmation_panel(settled.world.case, settled.world.plaintiff)
    assert panel["ruling"] is not None and panel["ruling"].is_sealed
