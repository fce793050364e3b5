"""Performance of the agreed terms (履行): obligations made at sealing, the obligor's
report with evidence, the obligee's confirmation or dispute, the mediator's urging,
every refusal (nothing changes), the sweep's reminders and overdue alerts, and the
performance page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from documents.management.commands.follow_up_agreements import FOLLOW_UPS
from documents.models import Document, Obligation, ObligationStep
from documents.services import performance
from documents.todo import party_tasks
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, CaseEvent, Notification, SmsMessage
from mediation.sms import deliver
from rooms.models import RoomEntry
from tests.documents import performance_world
from tests.documents.performance_world import obligation
from tests.identities import png_bytes

# The module's sealed agreement and its files (performance_world).
built = performance_world.built
module_files = performance_world.module_files
_module_files = performance_world._module_files

pytestmark = pytest.mark.django_db

Status = Obligation.Status


def test_sealing_turns_each_payment_and_act_into_an_obligation(built):
    rows = {
        o.term_number: (o.kind, o.obligor_id, o.obligee_id, o.amount, o.due_date, o.instalment, o.instalments, o.status)
        for o in Obligation.objects.filter(agreement=built.agreement)
    }
    d, p = built.defendant_party.pk, built.plaintiff_party.pk
    today = built.today
    assert rows == {
        1: ("payment", d, p, Decimal("20000.00"), today + dt.timedelta(days=40), 2, 3, Status.DUE),
        2: ("payment", d, p, Decimal("20000.00"), today + dt.timedelta(days=10), 1, 3, Status.DUE),
        3: ("payment", d, p, Decimal("10000.00"), today + dt.timedelta(days=70), 3, 3, Status.DUE),
        4: ("act", p, d, None, None, None, None, Status.DUE),
        5: ("payment", p, d, Decimal("1000.00"), today - dt.timedelta(days=1), None, None, Status.OVERDUE),
    }


# Helpers --------------------------------------------------------------------------------------


def snapshot(built, term: int) -> tuple:
    o = obligation(built, term)
    return (
        o.status,
        o.performed_on,
        o.reported_at,
        o.confirmed_at,
        list(o.reminders_sent),
        ObligationStep.objects.filter(obligation=o).count(),
        AuditEntry.objects.count(),
        CaseEvent.objects.filter(case=built.case).count(),
        RoomEntry.objects.filter(room__case=built.case).count(),
        Notification.objects.count(),
        SmsMessage.objects.count(),
        Document.objects.count(),
    )


def report(built, term=2, *, actor=None, performed_on=None, note="已转账", evidence=(), **kwargs):
    return performance.report_performed(
        obligation=obligation(built, term),
        actor=actor or built.defendant,
        performed_on=performed_on or built.today,
        note=note,
        evidence=list(evidence),
        **kwargs,
    )


def notices(kind, user):
    return list(Notification.objects.filter(kind=kind, recipient=user).order_by("pk"))


def texts_to(sms_outbox, user):
    """The texts about performance to `user` (the module's signing notices aside)."""
    return [m for m in sms_outbox if m.to == str(user.phone) and m.template.startswith("notice_obligation")]


def sweep(today):
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = performance.follow_obligations(today=today)
    deliver()
    return result


# At sealing -----------------------------------------------------------------------------------


def test_instalments_take_the_terms_own_numbers_when_the_drafting_form_gave_them():
    terms = [
        {"kind": "payment", "obligor": 1, "obligee": 2, "due_date": "2027-03-01", "instalment": {"n": 2, "of": 2}},
        {"kind": "payment", "obligor": 1, "obligee": 2, "due_date": "2027-01-01", "instalment": {"n": 1, "of": 2}},
        {"kind": "payment", "obligor": 2, "obligee": 1, "due_date": "2027-01-01"},
        {"kind": "act", "obligor": 1, "obligee": 2, "act": "道歉"},
    ]
    assert performance._instalments(terms) == {1: (2, 2), 2: (1, 2)}


def test_creating_the_obligations_again_creates_none(built):
    before = Obligation.objects.count()
    again = performance.create_obligations(built.agreement)
    assert Obligation.objects.count() == before
    assert {o.pk for o in again} == {o.pk for o in built.by_term.values()}


def test_a_term_already_past_due_at_sealing_is_overdue_and_the_mediator_told(built):
    overdue = obligation(built, 5)
    assert overdue.overdue_since == built.today
    assert list(overdue.steps.values_list("step", flat=True)) == ["overdue"]
    [notice] = notices("obligation.overdue", built.mediator)
    assert notice.params["term"] == 5
    assert CaseEvent.objects.filter(case=built.case, action="obligations_created", data__count=5).exists()


def test_an_act_without_a_date_is_never_overdue(built):
    sweep(built.today + dt.timedelta(days=400))
    assert obligation(built, 4).status == Status.DUE


# The obligor's report ---------------------------------------------------------------------------


def test_the_obligor_reports_with_evidence_and_the_obligee_is_told_by_sms(built, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        report(built, evidence=[built.shared_receipt])
    deliver()

    o = obligation(built, 2)
    assert (o.status, o.performed_on) == (Status.REPORTED, built.today)
    assert o.reported_at is not None
    step = o.steps.get(step="reported")
    assert (step.actor, step.party, step.note) == (built.defendant, built.defendant_party, "已转账")
    assert list(step.evidence.all()) == [built.shared_receipt]
    assert AuditEntry.objects.filter(action="obligation.report_performed").count() == 1
    assert CaseEvent.objects.filter(case=built.case, action="obligation_reported", data__term=2).exists()
    entry = RoomEntry.objects.get(room=built.world.joint, kind="obligation.reported")
    assert entry.data["term"] == 2 and "已转账" not in str(entry.data)
    assert [n.params["term"] for n in notices("obligation.reported", built.plaintiff)] == [2]
    assert notices("obligation.reported", built.defendant) == []
    [text] = texts_to(sms_outbox, built.plaintiff)
    assert built.case.number in text.body


def test_the_obligor_uploads_the_receipt_with_the_report(built):
    report(built, receipt=png_bytes((50, 50)), receipt_name="回单.png")
    [document] = obligation(built, 2).steps.get(step="reported").evidence.all()
    assert document.kind == Document.Kind.PERFORMANCE_EVIDENCE
    assert document.visibility == Document.Visibility.CASE
    assert document.party == built.defendant_party
    assert document.case == built.case


@pytest.mark.parametrize("who", ["plaintiff", "mediator", "judge"])
def test_only_the_side_that_owes_it_can_report_it_performed(built, who):
    before = snapshot(built, 2)
    with pytest.raises(ActionForbidden, match="Only the side that owes it can report it performed"):
        report(built, actor=getattr(built, who))
    assert snapshot(built, 2) == before


def test_evidence_from_another_case_is_refused(built):
    before = snapshot(built, 2)
    with pytest.raises(ValidationError) as error:
        report(built, evidence=[built.other_document])
    assert "not a document of this case" in str(error.value.message_dict["evidence"])
    assert snapshot(built, 2) == before


def test_evidence_the_obligee_cannot_see_is_refused(built):
    before = snapshot(built, 2)
    with pytest.raises(ValidationError) as error:
        report(built, evidence=[built.side_only])
    assert "one side only" in str(error.value.message_dict["evidence"])
    assert snapshot(built, 2) == before


@pytest.mark.parametrize(
    ("days", "message"),
    [(1, "cannot be in the future"), (-1, "cannot be before the agreement was sealed")],
)
def test_the_day_performed_is_neither_in_the_future_nor_before_the_seal(built, days, message):
    before = snapshot(built, 2)
    with pytest.raises(ValidationError) as error:
        report(built, performed_on=built.today + dt.timedelta(days=days))
    assert message in str(error.value.message_dict["performed_on"])
    assert snapshot(built, 2) == before


def test_a_report_needs_the_day(built):
    with pytest.raises(ValidationError) as error:
        performance.report_performed(obligation=obligation(built, 2), actor=built.defendant, performed_on=None)
    assert "performed_on" in error.value.message_dict


def test_a_reported_obligation_cannot_be_reported_again(built):
    report(built)
    before = snapshot(built, 2)
    with pytest.raises(TransitionNotAllowed):
        report(built)
    assert snapshot(built, 2) == before


# The obligee's answer --------------------------------------------------------------------------


def test_the_obligee_confirms_and_the_obligation_is_performed(built):
    report(built)
    performance.confirm_performance(obligation=obligation(built, 2), actor=built.plaintiff)
    o = obligation(built, 2)
    assert o.status == Status.PERFORMED and o.confirmed_at is not None
    assert o.performed_on_time is True
    assert o.steps.get(step="confirmed").party == built.plaintiff_party
    assert notices("obligation.confirmed", built.defendant)
    assert CaseEvent.objects.filter(case=built.case, action="obligation_confirmed").exists()


def test_a_party_cannot_confirm_their_own_payment(built):
    report(built)
    before = snapshot(built, 2)
    with pytest.raises(ActionForbidden, match="You cannot confirm your own payment"):
        performance.confirm_performance(obligation=obligation(built, 2), actor=built.defendant)
    with pytest.raises(ActionForbidden):
        performance.confirm_performance(obligation=obligation(built, 2), actor=built.mediator)
    assert snapshot(built, 2) == before


def test_nothing_reported_cannot_be_confirmed_nor_disputed(built):
    before = snapshot(built, 2)
    with pytest.raises(TransitionNotAllowed):
        performance.confirm_performance(obligation=obligation(built, 2), actor=built.plaintiff)
    with pytest.raises(TransitionNotAllowed):
        performance.dispute_performance(obligation=obligation(built, 2), actor=built.plaintiff, reason="没收到")
    assert snapshot(built, 2) == before


def test_the_obligee_disputes_with_a_reason_and_the_obligor_may_report_again(built):
    report(built)
    performance.dispute_performance(obligation=obligation(built, 2), actor=built.plaintiff, reason="账上没有收到")
    o = obligation(built, 2)
    assert o.status == Status.DISPUTED
    assert o.steps.get(step="disputed").note == "账上没有收到"
    assert notices("obligation.disputed", built.defendant) and notices("obligation.disputed", built.mediator)

    report(built, note="再次转账")
    assert obligation(built, 2).status == Status.REPORTED


def test_a_dispute_needs_a_reason_and_the_obligees_side(built):
    report(built)
    before = snapshot(built, 2)
    with pytest.raises(ValidationError) as error:
        performance.dispute_performance(obligation=obligation(built, 2), actor=built.plaintiff, reason="  ")
    assert "reason" in error.value.message_dict
    with pytest.raises(ActionForbidden):
        performance.dispute_performance(obligation=obligation(built, 2), actor=built.defendant, reason="自己")
    assert snapshot(built, 2) == before


# The mediator urges ---------------------------------------------------------------------------------


def test_the_mediator_urges_and_records_what_they_did(built, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        performance.urge_performance(obligation=obligation(built, 5), actor=built.mediator, note="电话联系原告代理人")
    deliver()
    o = obligation(built, 5)
    assert o.status == Status.OVERDUE
    step = o.steps.get(step="urged")
    assert (step.actor, step.note) == (built.mediator, "电话联系原告代理人")
    # Term 5 is owed by the plaintiff: its side is told, by SMS too.
    assert notices("obligation.urged", built.plaintiff)
    assert [m.template for m in texts_to(sms_outbox, built.plaintiff)] == ["notice_obligation_urged"]
    assert RoomEntry.objects.filter(room=built.world.joint, kind="obligation.urged").exists()


@pytest.mark.parametrize("who", ["plaintiff", "defendant", "judge"])
def test_only_the_mediator_urges(built, who):
    before = snapshot(built, 5)
    with pytest.raises(ActionForbidden, match="Only the case's mediator"):
        performance.urge_performance(obligation=obligation(built, 5), actor=getattr(built, who), note="催")
    assert snapshot(built, 5) == before


def test_urging_needs_a_note_and_an_obligation_not_yet_reported(built):
    before = snapshot(built, 5)
    with pytest.raises(ValidationError):
        performance.urge_performance(obligation=obligation(built, 5), actor=built.mediator, note="")
    assert snapshot(built, 5) == before
    report(built)
    with pytest.raises(TransitionNotAllowed):
        performance.urge_performance(obligation=obligation(built, 2), actor=built.mediator, note="催")


# On the clock -------------------------------------------------------------------------------------


def test_the_obligor_is_reminded_three_days_before_and_on_the_day_once_each(built, sms_outbox):
    due = obligation(built, 2).due_date
    mail.outbox.clear()

    sweep(due - dt.timedelta(days=4))
    assert texts_to(sms_outbox, built.defendant) == []

    sweep(due - dt.timedelta(days=3))
    sweep(due - dt.timedelta(days=3))
    sweep(due - dt.timedelta(days=1))
    [text] = texts_to(sms_outbox, built.defendant)
    assert text.template == "notice_obligation_due" and due.isoformat() in text.body
    assert [n.params["term"] for n in notices("obligation.due_soon", built.defendant)] == [2]
    mailed = [m for m in mail.outbox if m.to == [built.defendant.email]]
    assert len(mailed) == 1 and due.isoformat() in mailed[0].body

    sweep(due)
    sweep(due)
    assert len(texts_to(sms_outbox, built.defendant)) == 2
    assert len(notices("obligation.due_today", built.defendant)) == 1
    assert len([m for m in mail.outbox if m.to == [built.defendant.email]]) == 2
    assert obligation(built, 2).reminders_sent == ["before_3", "before_0"]
    # The obligee is not reminded of what the other side owes.
    assert notices("obligation.due_soon", built.plaintiff) == []


def test_a_reported_obligation_is_neither_reminded_nor_overdue(built):
    report(built)
    due = obligation(built, 2).due_date
    sweep(due)
    sweep(due + dt.timedelta(days=1))
    o = obligation(built, 2)
    assert o.status == Status.REPORTED and o.reminders_sent == []


def test_an_obligation_due_and_not_reported_is_overdue_the_day_after(built):
    due = obligation(built, 2).due_date
    sweep(due)
    assert obligation(built, 2).status == Status.DUE

    result = sweep(due + dt.timedelta(days=1))
    o = obligation(built, 2)
    assert result["overdue"] == 1
    assert (o.status, o.overdue_since) == (Status.OVERDUE, due + dt.timedelta(days=1))
    assert o.steps.filter(step="overdue").count() == 1
    assert [n.params["term"] for n in notices("obligation.overdue", built.mediator)] == [5, 2]
    assert CaseEvent.objects.filter(case=built.case, action="obligation_overdue", data__term=2).exists()
    # Overdue, it may still be reported performed.
    report(built)
    assert obligation(built, 2).status == Status.REPORTED


def test_the_judge_is_told_once_an_obligation_stays_overdue_seven_days(built):
    due = obligation(built, 2).due_date
    sweep(due + dt.timedelta(days=6))
    assert [n.params["term"] for n in notices("obligation.overdue_judge", built.judge)] == [5]

    sweep(due + dt.timedelta(days=7))
    sweep(due + dt.timedelta(days=8))
    told = [n for n in notices("obligation.overdue_judge", built.judge) if n.params["term"] == 2]
    assert len(told) == 1 and told[0].params["days"] == 7


def test_the_sweep_runs_from_the_follow_up_command(built, capsys):
    assert "documents.services.performance.follow_obligations" in FOLLOW_UPS
    call_command("follow_up_agreements")
    assert "reminders:" in capsys.readouterr().out


# The page ------------------------------------------------------------------------------------------


def page(client, user, built):
    client.force_login(user)
    return client.get(reverse("case_performance", args=[built.case.pk]))


@pytest.mark.parametrize("who", ["plaintiff", "defendant", "mediator", "judge"])
def test_the_case_people_see_the_performance_page(client, built, who):
    response = page(client, getattr(built, who), built)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Instalment 1 of 3" in body and "Instalment 3 of 3" in body
    assert "¥20,000.00" in body
    assert f"{built.defendant_party.name} owes {built.plaintiff_party.name}" in body
    assert 'data-days-overdue="1"' in body


def test_the_other_cases_party_and_strangers_get_404(client, built):
    assert page(client, built.other.defendant, built).status_code == 404
    assert page(client, built.nobody, built).status_code == 404
    client.force_login(built.other.defendant)
    url = reverse("obligation_action", args=[built.by_term[2].pk, "confirm"])
    assert client.post(url).status_code == 404


def test_each_side_is_offered_only_its_own_actions(client, built):
    body = page(client, built.defendant, built).content.decode()
    assert f'action="{reverse("obligation_action", args=[built.by_term[2].pk, "report"])}"' in body
    assert f'action="{reverse("obligation_action", args=[built.by_term[5].pk, "report"])}"' not in body
    body = page(client, built.plaintiff, built).content.decode()
    assert f'action="{reverse("obligation_action", args=[built.by_term[2].pk, "report"])}"' not in body
    assert f'action="{reverse("obligation_action", args=[built.by_term[5].pk, "urge"])}"' not in body
    assert f'action="{reverse("obligation_action", args=[built.by_term[5].pk, "report"])}"' in body
    body = page(client, built.mediator, built).content.decode()
    assert f'action="{reverse("obligation_action", args=[built.by_term[5].pk, "urge"])}"' in body


def test_the_obligor_reports_on_the_page_with_an_upload_and_the_obligee_confirms(client, built):
    client.force_login(built.defendant)
    o = built.by_term[2]
    response = client.post(
        reverse("obligation_action", args=[o.pk, "report"]),
        {
            f"o{o.pk}-performed_on": built.today.isoformat(),
            f"o{o.pk}-note": "网银转账",
            f"o{o.pk}-receipt": SimpleUploadedFile("回单.png", png_bytes((60, 40)), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    [document] = obligation(built, 2).steps.get(step="reported").evidence.all()
    assert document.kind == Document.Kind.PERFORMANCE_EVIDENCE

    body = page(client, built.plaintiff, built).content.decode()
    assert reverse("document_file", args=[document.pk]) in body
    assert client.get(reverse("document_file", args=[document.pk])).status_code == 200
    client.post(reverse("obligation_action", args=[o.pk, "confirm"]))
    assert obligation(built, 2).status == Status.PERFORMED


def test_the_obligee_cannot_report_for_the_obligor_on_the_page(client, built):
    before = snapshot(built, 2)
    client.force_login(built.plaintiff)
    o = built.by_term[2]
    response = client.post(
        reverse("obligation_action", args=[o.pk, "report"]), {f"o{o.pk}-performed_on": built.today.isoformat()}
    )
    assert response.status_code == 403
    assert snapshot(built, 2) == before


def test_a_dispute_without_reason_on_the_page_changes_nothing(client, built):
    report(built)
    before = snapshot(built, 2)
    client.force_login(built.plaintiff)
    o = built.by_term[2]
    response = client.post(reverse("obligation_action", args=[o.pk, "dispute"]), {f"o{o.pk}-reason": ""}, follow=True)
    assert "Say why you dispute it" in response.content.decode()
    assert snapshot(built, 2) == before


def test_the_case_and_agreement_pages_link_to_the_performance_page(client, built):
    client.force_login(built.plaintiff)
    url = reverse("case_performance", args=[built.case.pk])
    assert url in client.get(reverse("case_detail", args=[built.case.pk])).content.decode()
    assert url in client.get(reverse("agreement_detail", args=[built.agreement.pk])).content.decode()


def test_the_to_do_lists_ask_the_obligor_to_report_and_the_obligee_to_confirm(built):
    defendant_tasks = [t for t in party_tasks(built.case, built.defendant) if t.code.startswith("obligation.")]
    assert [(t.code, t.params["term"]) for t in defendant_tasks] == [("obligation.report", 2)]
    plaintiff_tasks = [t for t in party_tasks(built.case, built.plaintiff) if t.code.startswith("obligation.")]
    assert [(t.code, t.params["term"]) for t in plaintiff_tasks] == [("obligation.report", 5)]

    report(built)
    plaintiff_tasks = [t.code for t in party_tasks(built.case, built.plaintiff)]
    assert "obligation.confirm" in plaintiff_tasks
    defendant_tasks = [(t.code, t.params.get("term")) for t in party_tasks(built.case, built.defendant)]
    assert ("obligation.report", 1) in defendant_tasks
    assert all(task.text for task in party_tasks(built.case, built.plaintiff))


# Locks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["report", "confirm", "sweep"])
def test_each_change_locks_the_case_then_the_obligation_then_the_audit_chain(built, postgres, action):
    from django.test.utils import CaptureQueriesContext

    from tests.locks import tables_locked

    if action != "report":
        report(built)
    with CaptureQueriesContext(postgres) as queries:
        if action == "report":
            report(built, term=1)
        elif action == "confirm":
            performance.confirm_performance(obligation=obligation(built, 2), actor=built.plaintiff)
        else:
            sweep(obligation(built, 1).due_date + dt.timedelta(days=1))

    locked = tables_locked(queries)
    case, row, chain = "mediation_mediationcase", "documents_obligation", "mediation_auditchainhead"
    assert locked.index(case) < locked.index(row) < locked.index(chain)


def test_a_report_without_the_day_on_the_page_says_which_field_and_changes_nothing(client, built):
    before = snapshot(built, 2)
    client.force_login(built.defendant)
    o = built.by_term[2]
    response = client.post(reverse("obligation_action", args=[o.pk, "report"]), {f"o{o.pk}-note": "x"}, follow=True)
    assert "Performed on: This field is required." in response.content.decode()
    assert snapshot(built, 2) == before


def test_a_recording_is_not_evidence_of_performance(built):
    from documents.services.storage import store_blob

    recording = Document.objects.create(
        case=built.case,
        kind=Document.Kind.RECORDING,
        title="recording",
        original_name="recording.webm",
        blob=store_blob(b"\x1a\x45\xdf\xa3 a recording", "video/webm"),
        uploaded_by=built.case.mediator,
    )
    before = snapshot(built, 2)
    with pytest.raises(ValidationError) as error:
        report(built, evidence=[recording])
    assert "is a recording" in str(error.value.message_dict["evidence"])
    assert snapshot(built, 2) == before


def test_the_report_form_offers_no_recording_as_evidence(built):
    """A recording the court has not allowed the parties is not even named to them
    among the documents they may give as evidence."""
    from documents.forms import ReportPerformedForm
    from documents.services.storage import store_blob

    recording = Document.objects.create(
        case=built.case,
        kind=Document.Kind.RECORDING,
        title="recording",
        original_name="recording.webm",
        blob=store_blob(b"\x1a\x45\xdf\xa3 a recording offered", "video/webm"),
        uploaded_by=built.case.mediator,
    )
    assert recording not in ReportPerformedForm(case=built.case).fields["evidence"].queryset
