"""Delegation of a case to a mediation organisation (委派调解): referral, dispatch by
the organisation's admin, acceptance by the mediator within 2 working days, returns
to the court, the sealed letter, and who may see and do what."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from documents.models import CourtDocument
from documents.services.delegation_letter import letter_of
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.forms_delegation import ReferralForm
from mediation.models import (
    Application,
    CalendarDay,
    Delegation,
    MediationCase,
    MediatorProfile,
    Notification,
    WorkOrder,
)
from mediation.roles import Role
from mediation.services import delegation as services
from tests.delegations import delegate_order, organisation, organisation_admin, roster_mediator
from tests.factories import UserFactory, refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = Delegation.Status


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def kinds_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


@pytest.fixture
def org():
    return organisation()


@pytest.fixture
def other_org():
    return organisation(name="海淀区商事调解中心", kind="commercial")


@pytest.fixture
def admin(org):
    return organisation_admin(org, full_name="Org Admin")


@pytest.fixture
def org_mediator(org):
    return roster_mediator(org, specialties=("物业服务合同纠纷",), full_name="Roster Mediator")


@pytest.fixture
def other_mediator(other_org):
    return roster_mediator(other_org, full_name="Other Mediator")


@pytest.fixture
def other_admin(other_org):
    return organisation_admin(other_org, full_name="Other Admin")


@pytest.fixture
def delegated(people, org, admin):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    return delegate_order(order, people["judge"], org)


def dispatched_case(delegated, admin, mediator):
    services.dispatch_delegation(case=delegated.case, actor=admin, mediator=mediator)
    return MediationCase.objects.get(pk=delegated.case_id)


# The whole flow ---------------------------------------------------------------------------


def test_a_referral_delegates_the_case_and_the_mediator_who_accepts_gets_it(people, org, admin, org_mediator):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)

    delegation = delegate_order(order, people["judge"], org)

    case = delegation.case
    assert (case.status, case.mediator, case.organisation) == (MediationCase.Status.DELEGATED, None, org)
    assert case.accepted_at is None
    assert delegation.status == Status.AWAITING_DISPATCH
    assert kinds_for(admin) == ["delegation.delegated"]
    assert refresh(order).status == WorkOrder.Status.IN_PROGRESS
    assert list(case.events.values_list("action", flat=True)) == ["refer", "delegate", "court_document_seal"]

    with time_machine.travel(at(2026, 11, 4, 10, 0), tick=False):
        services.dispatch_delegation(case=case, actor=admin, mediator=org_mediator)
    delegation.refresh_from_db()
    assert delegation.status == Status.AWAITING_ACCEPTANCE
    assert delegation.accept_by == at(2026, 11, 6, 23, 59, 59, 999999)
    assert kinds_for(org_mediator) == ["delegation.dispatched"]

    with time_machine.travel(at(2026, 11, 6, 18, 0), tick=False):
        services.accept_delegation(case=case, actor=org_mediator)
    case.refresh_from_db()
    delegation.refresh_from_db()
    assert (case.status, case.mediator, case.organisation) == (MediationCase.Status.PENDING, org_mediator, org)
    assert case.accepted_at is not None
    assert delegation.status == Status.ACCEPTED
    assert "delegation.accepted" in kinds_for(people["judge"])


def test_delegation_from_the_order_page_then_dispatch_from_the_queue_then_accept_on_the_case_page(
    client, people, org, admin, org_mediator
):
    order = order_in_state(WorkOrder.Status.DISPATCHED, people)
    client.force_login(people["judge"])
    response = client.post(
        reverse("work_order_action", args=[order.number, "refer_to_mediation"]),
        {
            "refer_to_mediation-how": "delegate",
            "refer_to_mediation-organisation": org.pk,
            "refer_to_mediation-cause_of_action": "物业服务合同纠纷",
            "refer_to_mediation-claim_amount": "12000",
            "refer_to_mediation-facts": "拖欠物业费",
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = MediationCase.objects.get(work_order=order)
    assert case.status == MediationCase.Status.DELEGATED

    client.force_login(admin)
    queue = client.get(reverse("delegation_queue"))
    assert queue.status_code == 200
    html = queue.content.decode()
    assert case.number in html
    assert "Roster Mediator" in html and "specialises in 物业服务合同纠纷" in html
    delegation = case.delegations.get()
    response = client.post(
        reverse("delegation_dispatch", args=[delegation.pk]), {f"d{delegation.pk}-mediator": org_mediator.pk}
    )
    assert response.status_code == 302
    delegation.refresh_from_db()
    assert delegation.dispatched_to == org_mediator

    client.force_login(org_mediator)
    listing = client.get(reverse("case_list")).content.decode()
    assert case.number in listing and "Delegated to you: accept by" in listing
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "accept or decline by" in page
    assert reverse("case_action", args=[case.pk, "accept_delegation"]) in page
    assert reverse("case_action", args=[case.pk, "decline_delegation"]) in page
    assert client.post(reverse("case_action", args=[case.pk, "accept_delegation"]), {}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.mediator) == (MediationCase.Status.PENDING, org_mediator)


def test_a_mediator_still_refers_directly_and_a_mediator_failing_the_roster_rule_is_refused(people, org):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    suspended = roster_mediator(org, status=MediatorProfile.Status.SUSPENDED)
    form = ReferralForm(
        {"how": "mediator", "mediator": suspended.pk, "cause_of_action": "合同纠纷"},
        order=order,
    )
    assert not form.is_valid()
    assert "mediator" in form.errors
    assert suspended.pk not in [value for value, _label in form.fields["mediator"].choices if value]


# Refusals -------------------------------------------------------------------------------------


def test_dispatch_to_a_mediator_of_another_organisation_is_refused(delegated, admin, other_mediator):
    with pytest.raises(ValidationError) as error:
        services.dispatch_delegation(case=delegated.case, actor=admin, mediator=other_mediator)
    assert "mediator" in error.value.message_dict
    delegated.refresh_from_db()
    assert (delegated.status, delegated.dispatched_to) == (Status.AWAITING_DISPATCH, None)


def test_an_admin_of_another_organisation_may_not_dispatch(delegated, other_admin, org_mediator):
    with pytest.raises(ActionForbidden):
        services.dispatch_delegation(case=delegated.case, actor=other_admin, mediator=org_mediator)
    delegated.refresh_from_db()
    assert delegated.status == Status.AWAITING_DISPATCH


def test_the_group_alone_does_not_make_an_admin_of_the_organisation(delegated, org_mediator):
    in_group_only = UserFactory(roles=[Role.ORGANISATION_ADMIN])
    with pytest.raises(ActionForbidden):
        services.dispatch_delegation(case=delegated.case, actor=in_group_only, mediator=org_mediator)


@pytest.mark.parametrize("problem", ["suspended", "expired"])
def test_a_suspended_or_expired_mediator_cannot_be_dispatched_to(delegated, admin, org, problem):
    if problem == "suspended":
        mediator = roster_mediator(org, status=MediatorProfile.Status.SUSPENDED)
    else:
        mediator = roster_mediator(org, term_ends_on=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        services.dispatch_delegation(case=delegated.case, actor=admin, mediator=mediator)
    delegated.refresh_from_db()
    assert delegated.status == Status.AWAITING_DISPATCH


def test_a_mediator_suspended_after_dispatch_cannot_accept(delegated, admin, org_mediator):
    case = dispatched_case(delegated, admin, org_mediator)
    MediatorProfile.objects.filter(user=org_mediator).update(status=MediatorProfile.Status.SUSPENDED)
    with pytest.raises(ValidationError):
        services.accept_delegation(case=case, actor=org_mediator)
    case.refresh_from_db()
    assert (case.status, case.mediator) == (MediationCase.Status.DELEGATED, None)


def test_only_the_mediator_it_was_dispatched_to_may_accept(delegated, admin, org_mediator, org):
    case = dispatched_case(delegated, admin, org_mediator)
    colleague = roster_mediator(org)
    with pytest.raises(ActionForbidden):
        services.accept_delegation(case=case, actor=colleague)


def test_accepting_after_accept_by_is_refused(people, delegated, admin, org_mediator):
    with time_machine.travel(at(2026, 11, 4, 10, 0), tick=False):
        case = dispatched_case(delegated, admin, org_mediator)
    with time_machine.travel(at(2026, 11, 7, 0, 0, 1), tick=False), pytest.raises(TransitionNotAllowed):
        services.accept_delegation(case=case, actor=org_mediator)
    case.refresh_from_db()
    assert case.mediator is None


def test_an_open_delegation_is_not_delegated_twice(people, delegated, org):
    with pytest.raises(TransitionNotAllowed):
        services.delegate_case(case=delegated.case, actor=people["judge"], organisation=org)


# Returns and the flag ---------------------------------------------------------------------------


def test_an_unaccepted_delegation_returns_after_two_working_days_across_a_weekend_and_a_holiday(
    people, delegated, admin, org_mediator
):
    # Dispatched Friday 6 November 2026; Monday 9 is a holiday: the days that count are
    # Tuesday 10 and Wednesday 11, so it must be accepted by the end of Wednesday.
    CalendarDay.objects.create(date=dt.date(2026, 11, 9), is_working_day=False, name="Holiday")
    with time_machine.travel(at(2026, 11, 6, 16, 0), tick=False):
        case = dispatched_case(delegated, admin, org_mediator)
    delegated.refresh_from_db()
    assert delegated.accept_by == at(2026, 11, 11, 23, 59, 59, 999999)

    assert services.return_overdue_delegations(at(2026, 11, 11, 23, 0)) == 0
    assert services.return_overdue_delegations(at(2026, 11, 12, 0, 0, 1)) == 1
    assert services.return_overdue_delegations(at(2026, 11, 12, 0, 5)) == 0

    delegated.refresh_from_db()
    case.refresh_from_db()
    assert (delegated.status, delegated.return_reason) == (Status.RETURNED, "not_accepted_in_time")
    assert delegated.is_flagged
    assert (case.status, case.mediator, case.organisation) == (MediationCase.Status.DELEGATED, None, None)
    assert "delegation.returned" in kinds_for(people["judge"])
    assert "delegation.returned" in kinds_for(people["liaison"])


def test_the_check_deadlines_command_returns_overdue_delegations(capsys, delegated, admin, org_mediator):
    with time_machine.travel(at(2026, 11, 4, 10, 0), tick=False):
        dispatched_case(delegated, admin, org_mediator)
    with time_machine.travel(at(2026, 11, 9, 9, 0), tick=False):
        call_command("check_deadlines")
    assert "delegations returned, not accepted in time: 1" in capsys.readouterr().out
    delegated.refresh_from_db()
    assert delegated.status == Status.RETURNED


def test_the_mediator_declines_and_the_court_delegates_again_which_takes_the_flag_down(
    client, people, delegated, admin, org_mediator, other_org, other_admin
):
    case = dispatched_case(delegated, admin, org_mediator)
    with pytest.raises(ValidationError):
        services.decline_delegation(case=case, actor=org_mediator, reason=" ")
    services.decline_delegation(case=case, actor=org_mediator, reason="与一方当事人相识")
    delegated.refresh_from_db()
    assert (delegated.status, delegated.return_reason) == (Status.RETURNED, "declined_by_mediator")
    assert delegated.return_note == "与一方当事人相识"

    client.force_login(people["judge"])
    listing = client.get(reverse("case_list")).content.decode()
    assert "Returned by the organisation" in listing
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "data-delegation-flag" in page

    again = services.delegate_case(case=case, actor=people["judge"], organisation=other_org)
    delegated.refresh_from_db()
    assert delegated.flag_cleared_at is not None
    assert again.status == Status.AWAITING_DISPATCH
    assert MediationCase.objects.get(pk=case.pk).organisation == other_org
    assert "delegation.delegated" in kinds_for(other_admin)
    assert "Returned by the organisation" not in client.get(reverse("case_list")).content.decode()


def test_the_organisation_declines_before_dispatch_but_not_after(people, delegated, admin, org_mediator):
    services.decline_delegation(case=delegated.case, actor=admin, reason="本会暂无合适调解员")
    delegated.refresh_from_db()
    assert delegated.return_reason == "declined_by_organisation"

    again = services.delegate_case(case=delegated.case, actor=people["liaison"], organisation=delegated.organisation)
    services.dispatch_delegation(case=again.case, actor=admin, mediator=org_mediator)
    with pytest.raises(ActionForbidden):
        services.decline_delegation(case=again.case, actor=admin, reason="改变主意")


def test_the_court_assigns_a_court_mediator_directly_after_a_return(people, delegated, admin):
    services.decline_delegation(case=delegated.case, actor=admin, reason="无人可派")
    with pytest.raises(ActionForbidden):
        services.assign_mediator(case=delegated.case, actor=people["other_judge"], mediator=people["mediator"])

    case = services.assign_mediator(case=delegated.case, actor=people["judge"], mediator=people["mediator"])

    assert (case.status, case.mediator, case.organisation) == (
        MediationCase.Status.PENDING,
        people["mediator"],
        None,
    )
    delegated.refresh_from_db()
    assert delegated.flag_cleared_at is not None
    assert list(case.events.values_list("action", flat=True))[-1] == "assign_mediator"


# Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_admin", "other_mediator", "org_mediator_not_dispatched", "mediator"])
def test_outsiders_are_refused_the_delegated_case_everywhere(
    client, people, delegated, admin, org_mediator, other_admin, other_mediator, org, who
):
    dispatched_case(delegated, admin, org_mediator)
    user = {
        "other_admin": other_admin,
        "other_mediator": other_mediator,
        "org_mediator_not_dispatched": roster_mediator(org),
        "mediator": people["mediator"],
    }[who]
    case = delegated.case
    client.force_login(user)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404
    for action in ("accept_delegation", "decline_delegation", "dispatch_delegation"):
        assert client.post(reverse("case_action", args=[case.pk, action]), {}).status_code == 404
    assert client.get(reverse("delegation_letter_pdf", args=[delegated.pk])).status_code == 404
    assert client.post(reverse("delegation_dispatch", args=[delegated.pk]), {}).status_code in (403, 404)
    assert case.number not in client.get(reverse("case_list")).content.decode()
    queue = client.get(reverse("delegation_queue"))
    assert queue.status_code == 403 or case.number not in queue.content.decode()
    delegated.refresh_from_db()
    assert delegated.status == Status.AWAITING_ACCEPTANCE


def test_the_organisation_admin_and_the_dispatched_mediator_see_the_case_but_no_room(
    client, delegated, admin, org_mediator
):
    case = dispatched_case(delegated, admin, org_mediator)
    for user in (admin, org_mediator):
        client.force_login(user)
        response = client.get(reverse("case_detail", args=[case.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert reverse("delegation_letter_pdf", args=[delegated.pk]) in html
        assert "/rooms/" not in html


def test_a_mediator_who_let_the_time_pass_no_longer_sees_the_case(client, delegated, admin, org_mediator):
    with time_machine.travel(at(2026, 11, 4, 10, 0), tick=False):
        case = dispatched_case(delegated, admin, org_mediator)
    services.return_overdue_delegations(at(2026, 11, 9, 9, 0))
    client.force_login(org_mediator)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404


def test_the_queue_is_for_organisation_admins_only(client, people):
    client.force_login(people["judge"])
    assert client.get(reverse("delegation_queue")).status_code == 403


# The letter -------------------------------------------------------------------------------------


def test_the_letter_of_delegation_is_sealed_verifiable_and_read_by_the_court_and_the_organisation(
    client, people, delegated, admin, org_mediator
):
    letter = letter_of(delegated)
    assert letter.kind == CourtDocument.Kind.DELEGATION_LETTER
    assert letter.is_sealed
    assert letter.content["organisation"]["name"] == delegated.organisation.name
    assert letter.content["case_number"] == delegated.case.number
    assert letter.content["period_days"] == 30
    assert letter.content["cause_of_action"] == "物业服务合同纠纷"

    report = verify_pdf(read_blob(letter.sealed_blob))
    assert report.matches_sealed_original
    assert report.document == "delegation_letter"
    assert report.all_valid
    assert client.get(reverse("verify_record", args=[letter.verification_code])).status_code == 200

    dispatched_case(delegated, admin, org_mediator)
    for user in (people["judge"], people["liaison"], admin, org_mediator):
        client.force_login(user)
        response = client.get(reverse("delegation_letter_pdf", args=[delegated.pk]))
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"


# The referral form ------------------------------------------------------------------------------


def test_the_applicants_chosen_mediator_is_preselected_and_marked(client, people, org, org_mediator):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    Application.objects.create(
        work_order=order,
        applicant_kind="person",
        respondent_kind="organisation",
        respondent_name="某物业公司",
        claim="退还物业费",
        preferred_mediator=org_mediator.mediator_profile,
        consent_online_mediation=True,
        consent_electronic_service=True,
        phone_verified_at=timezone.now(),
    )
    form = ReferralForm(order=refresh(order))
    assert form.initial["mediator"] == org_mediator.pk
    labels = dict(form.fields["mediator"].choices)
    assert "chosen by the applicant" in str(labels[org_mediator.pk])

    client.force_login(people["judge"])
    page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    assert "chosen by the applicant" in page


def test_the_referral_ranks_specialists_first_for_the_cause_typed(people, org, org_mediator):
    roster_mediator(org, specialties=("劳动争议",), full_name="Labour Specialist")
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    form = ReferralForm({"how": "mediator", "cause_of_action": "劳动争议"}, order=order)
    assert not form.is_valid()
    ranked = [label for value, label in form.fields["mediator"].choices if value]
    assert ranked[0].startswith("Labour Specialist")
    assert "specialises in 劳动争议" in ranked[0]
    assert "Labour Specialist" in form.notice


def test_the_admin_is_offered_dispatch_and_decline_before_dispatch_and_neither_after(
    client, delegated, admin, org_mediator
):
    case = delegated.case
    client.force_login(admin)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("case_action", args=[case.pk, "dispatch_delegation"]) in page
    assert reverse("case_action", args=[case.pk, "decline_delegation"]) in page

    dispatched_case(delegated, admin, org_mediator)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("case_action", args=[case.pk, "dispatch_delegation"]) not in page
    assert reverse("case_action", args=[case.pk, "decline_delegation"]) not in page
    refused = client.post(
        reverse("case_action", args=[case.pk, "decline_delegation"]), {"decline_delegation-reason": "x"}
    )
    assert refused.status_code == 403
    delegated.refresh_from_db()
    assert delegated.status == Status.AWAITING_ACCEPTANCE


def test_the_return_notice_reads_the_reason_in_the_readers_language(people, delegated, admin):
    from django.utils import translation

    from mediation.notifications import render

    services.decline_delegation(case=delegated.case, actor=admin, reason="无人可派")
    notice = Notification.objects.get(recipient=people["judge"], kind="delegation.returned")
    assert notice.params["return_reason"] == "declined_by_organisation"
    assert "The organisation declined" in render(notice.kind, notice.params)
    with translation.override("zh-hans"):
        assert "调解组织拒绝" in render(notice.kind, notice.params)


def test_after_acceptance_the_admin_still_reads_the_case_page_but_enters_no_room(
    client, delegated, admin, org_mediator
):
    case = dispatched_case(delegated, admin, org_mediator)
    services.accept_delegation(case=case, actor=org_mediator)
    client.force_login(admin)
    response = client.get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    assert "/rooms/" not in response.content.decode()
    assert client.get(reverse("case_documents", args=[case.pk])).status_code == 404
    client.force_login(org_mediator)
    assert client.get(reverse("delegation_letter_pdf", args=[delegated.pk])).status_code == 200


def test_the_court_records_a_withdrawal_while_no_mediator_has_the_case_and_the_delegation_ends(
    people, delegated, admin, org_mediator
):
    from mediation.services import cases as case_services

    case = MediationCase.objects.get(pk=delegated.case_id)
    for outsider in (admin, org_mediator, people["mediator"]):
        with pytest.raises(ActionForbidden):
            case_services.withdraw_case(case=case, actor=outsider, reason="撤回")
    case_services.withdraw_case(case=case, actor=people["judge"], reason="申请人撤回调解申请。")
    case.refresh_from_db()
    delegated.refresh_from_db()
    assert case.status == MediationCase.Status.WITHDRAWN
    assert delegated.status == Delegation.Status.WITHDRAWN
