"""An attacker's review of what comes after the seal: each test is a defect found,
proved and fixed (the other side learning of an application for enforcement, ...)."""

import datetime as dt

import pytest
from django.test import TestCase
from django.urls import reverse

from documents.models import Obligation
from documents.services.enforcement import apply_for_enforcement
from tests.after_seal import become_overdue, confirm, perform, sealed_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    world, agreement = sealed_world(people["mediator"], people["judge"])
    world.agreement = agreement
    return world


def obligations_of(world):
    """The obligations sealing made, by term."""
    return list(Obligation.objects.filter(agreement=world.agreement).order_by("term_number"))


def enforced(world):
    world.confirmation = confirm(world, world.agreement)
    first, second, _third = obligations_of(world)
    perform(world, first, on=dt.date(2026, 10, 5))
    become_overdue(second)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return apply_for_enforcement(case=world.case, actor=world.plaintiff, obligee=world.plaintiff_participant.party)


def test_the_other_side_cannot_open_nor_download_the_application_for_enforcement(client, world):
    court_document = enforced(world)
    page = reverse("court_document_sign", args=[court_document.pk])
    pdfs = [reverse("court_document_pdf", args=[court_document.pk, which]) for which in ("sealed", "latest")]
    client.force_login(world.defendant)
    assert client.get(page).status_code == 404
    assert all(client.get(url).status_code == 404 for url in pdfs)
    # The obligee's side and the court still do.
    for user in (world.plaintiff, world.mediator, world.judge):
        client.force_login(user)
        assert client.get(page).status_code == 200
        assert client.get(pdfs[0]).content.startswith(b"%PDF-")


# The ruling: signed only by the application's judge, only while it can decide --------------------


@pytest.fixture
def drafted(mediator, judge):
    from documents.services import confirmation_court as court
    from tests.confirmations import applied, settled_case

    confirmation = court.accept_confirmation(confirmation=applied(settled_case(mediator, judge)), actor=judge)
    ruling = court.draft_ruling(confirmation=confirmation, actor=judge, decision="confirm")
    return confirmation, ruling


def test_a_judge_no_longer_assigned_cannot_sign_the_ruling_they_drafted(drafted, judge, other_judge, head):
    from documents.models import CourtDocument
    from documents.models.confirmation import JudicialConfirmation
    from documents.services import confirmation_court as court
    from documents.services.court_documents import court_document_signer_slots
    from mediation.errors import TransitionNotAllowed
    from tests.court_documents import sign

    confirmation, ruling = drafted
    court.assign_judge(confirmation=confirmation, actor=head, judge=other_judge)
    assert court_document_signer_slots(ruling, judge) == []
    with pytest.raises(TransitionNotAllowed):
        sign(ruling, judge, "judge")
    # Nothing was decided in the new judge's name.
    assert JudicialConfirmation.objects.get(pk=confirmation.pk).status == JudicialConfirmation.Status.ACCEPTED
    assert CourtDocument.objects.get(pk=ruling.pk).status != CourtDocument.Status.SEALED


def test_the_ruling_of_a_withdrawn_application_is_offered_to_nobody(drafted, judge, mediator):
    from documents.models.confirmation import JudicialConfirmation
    from documents.services.confirmation import withdraw_confirmation
    from documents.services.court_documents import court_document_signer_slots
    from mediation.errors import TransitionNotAllowed
    from tests.court_documents import sign

    confirmation, ruling = drafted
    plaintiff = confirmation.case.participants.filter(party__side="plaintiff").first().user
    withdraw_confirmation(confirmation=confirmation, actor=plaintiff, reason="已自行履行")
    assert court_document_signer_slots(ruling, judge) == []
    with pytest.raises(TransitionNotAllowed):
        sign(ruling, judge, "judge")
    assert JudicialConfirmation.objects.get(pk=confirmation.pk).status == JudicialConfirmation.Status.WITHDRAWN


# The review's record is true ----------------------------------------------------------------------


@pytest.fixture
def under_review(mediator, judge):
    from documents.services import confirmation_court as court
    from tests.confirmations import applied, settled_case

    return court.accept_confirmation(confirmation=applied(settled_case(mediator, judge)), actor=judge)


def test_questioning_in_the_joint_room_is_recorded_only_once_the_room_was_opened_for_it(under_review, judge):
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from documents.models.confirmation import ConfirmationReview
    from documents.services import confirmation_court as court

    with pytest.raises(ValidationError) as error:
        court.record_review(
            confirmation=under_review, actor=judge, kind="room", held_at=timezone.now(), note="询问双方"
        )
    assert "kind" in error.value.message_dict
    assert not ConfirmationReview.objects.exists()
    court.start_review_in_room(confirmation=under_review, actor=judge)
    review = court.record_review(
        confirmation=under_review, actor=judge, kind="room", held_at=timezone.now(), note="询问双方"
    )
    assert review.kind == "room"


def test_a_review_cannot_be_dated_before_the_application_was_made(under_review, judge):
    import datetime as dt

    from django.core.exceptions import ValidationError

    from documents.models.confirmation import ConfirmationReview
    from documents.services import confirmation_court as court

    with pytest.raises(ValidationError) as error:
        court.record_review(
            confirmation=under_review,
            actor=judge,
            kind="file",
            held_at=under_review.applied_at - dt.timedelta(days=30),
            note="审阅卷宗",
        )
    assert "held_at" in error.value.message_dict
    assert not ConfirmationReview.objects.exists()


def test_a_review_recorded_in_the_minute_the_application_arrived_is_not_before_it(under_review, judge):
    """The form gives the time to the minute: the minute of arrival itself is fine."""
    from documents.services import confirmation_court as court

    review = court.record_review(
        confirmation=under_review,
        actor=judge,
        kind="file",
        held_at=under_review.applied_at.replace(second=0, microsecond=0),
        note="审阅卷宗",
    )
    assert review.pk is not None


# A disputed report does not keep the obligation from becoming overdue --------------------------


def test_a_disputed_report_past_the_due_date_becomes_overdue_and_can_be_enforced(world):
    from documents.services import performance
    from documents.services.enforcement import enforcement_refusal

    world.confirmation = confirm(world, world.agreement)
    third = obligations_of(world)[2]
    assert third.status == Obligation.Status.DUE
    # The obligor reports a payment the obligee never received; the obligee disputes it.
    performance.report_performed(obligation=third, actor=world.defendant, performed_on=performance.local_today())
    performance.dispute_performance(obligation=third, actor=world.plaintiff, reason="未收到款项")
    after_due = third.due_date + dt.timedelta(days=1)
    performance.follow_obligations(today=after_due)
    third.refresh_from_db()
    assert third.status == Obligation.Status.OVERDUE
    assert third.overdue_since == after_due
    assert world.mediator.notifications.filter(kind="obligation.overdue").exists()
    assert enforcement_refusal(world.plaintiff, world.case, world.plaintiff_participant.party) is None
