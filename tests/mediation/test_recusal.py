"""A party's application to replace the mediator (申请回避) and the judge's decision."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mediation import policy
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, MediatorProfile, RecusalRequest
from mediation.roles import Role
from mediation.services import cases
from mediation.services.recusal import decide_recusal, request_recusal
from tests.cases import make_case
from tests.factories import UserFactory, staff
from tests.participants import add_person_party
from tests.supervision import kinds_for, organisation, roster_mediator

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mediator, judge):
    return make_case(mediator, judge)


@pytest.fixture
def new_mediator(db):
    return staff(Role.MEDIATOR, None, full_name="Zhou Ping")


def ask(world, actor=None, reason="The mediator used to advise the defendant."):
    return request_recusal(case=world.case, actor=actor or world.plaintiff, reason=reason)


def attach(world, role, *, side="plaintiff"):
    # A guardian acts for a natural person (mediation.participation.acting_refusal).
    party = add_person_party(world, side=side) if role == "guardian" else world.case.parties.get(side=side)
    user = UserFactory(full_name=f"{role} person")
    cases.attach_participant(case=world.case, party=party, user=user, role=role, actor=world.mediator)
    return user


# Asking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["party", "legal_representative", "agent", "guardian"])
def test_someone_who_acts_for_a_party_may_ask(world, role, judge):
    person = attach(world, role)

    request = ask(world, person)

    assert (request.status, request.mediator, request.party.side) == ("pending", world.mediator, "plaintiff")
    assert world.case.events.filter(action="request_recusal", actor=person).exists()
    assert "case.recusal_requested" in kinds_for(judge)


@pytest.mark.parametrize("role", ["interpreter", "helper"])
def test_an_interpreter_or_a_helper_may_not_ask(world, role):
    person = attach(world, role)
    with pytest.raises(ActionForbidden):
        ask(world, person)
    assert not RecusalRequest.objects.exists()


def test_the_mediator_a_stranger_another_cases_party_or_a_removed_participant_may_not_ask(
    world, mediator, judge, people
):
    other = make_case(mediator, judge, label="B")
    cases.remove_participant(participant=world.defendant_participant, actor=mediator, reason="Replaced")
    for actor in (world.mediator, UserFactory(full_name="Stranger"), other.plaintiff, world.defendant, judge):
        with pytest.raises(ActionForbidden):
            ask(world, actor)
    assert not RecusalRequest.objects.exists()


def test_one_application_at_a_time_per_party_and_the_other_side_learns_nothing_of_it(world, client):
    ask(world)
    with pytest.raises(TransitionNotAllowed):
        ask(world)
    assert RecusalRequest.objects.count() == 1
    # The defendant is still offered the form and may ask on their own: a refusal or a
    # missing button would tell them that the plaintiff's application is waiting.
    client.force_login(world.defendant)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert reverse("case_action", args=[world.case.pk, "request_recusal"]) in page
    ask(world, world.defendant)
    assert RecusalRequest.objects.filter(status="pending").count() == 2


def test_once_one_is_granted_the_other_about_the_same_mediator_can_only_be_refused(world, judge, new_mediator):
    first = ask(world)
    second = ask(world, world.defendant)
    decide_recusal(request=first, actor=judge, grant=True, note="准许。", new_mediator=new_mediator)
    with pytest.raises(ValidationError):
        decide_recusal(request=second, actor=judge, grant=True, note="准许。", new_mediator=new_mediator)
    decide_recusal(request=second, actor=judge, grant=False, note="原调解员已更换。")
    assert RecusalRequest.objects.get(pk=second.pk).status == "refused"


def test_an_application_needs_a_reason(world):
    with pytest.raises(ValidationError):
        ask(world, reason="   ")
    with pytest.raises(ValidationError):
        ask(world, reason="x" * 2001)


def test_no_application_once_the_case_is_concluded(world):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="Withdrawn")
    with pytest.raises(TransitionNotAllowed):
        ask(world)


# Deciding -------------------------------------------------------------------------------------


def test_granting_replaces_the_mediator_and_tells_both_sides(world, judge, new_mediator):
    request = ask(world)

    decide_recusal(
        request=request, actor=judge, grant=True, note="A former adviser of the defendant.", new_mediator=new_mediator
    )

    case = MediationCase.objects.get(pk=world.case.pk)
    request.refresh_from_db()
    assert (case.mediator, case.status) == (new_mediator, MediationCase.Status.PENDING)
    assert (request.status, request.new_mediator, request.decided_by) == ("granted", new_mediator, judge)
    assert (
        case.events.filter(action="replace_mediator", actor=judge).get().data["previous_mediator"] == world.mediator.pk
    )
    assert "case.recusal_granted" in kinds_for(world.plaintiff)
    assert "case.mediator_replaced" in kinds_for(world.defendant)
    assert "case.recusal_granted" not in kinds_for(world.defendant)
    assert "case.mediator_removed" in kinds_for(world.mediator)
    assert "case.assigned" in kinds_for(new_mediator)
    # The old mediator no longer runs or sees the case; the new one does.
    assert not policy.can_on_case(world.mediator, "view", case)
    assert policy.can_on_case(new_mediator, "manage", case)


def test_refusing_keeps_the_mediator_and_tells_the_applicant_why(world, judge, client):
    request = ask(world)

    decide_recusal(request=request, actor=judge, grant=False, note="No ground for recusal was shown.")

    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("refused", "No ground for recusal was shown.")
    assert MediationCase.objects.get(pk=world.case.pk).mediator == world.mediator
    assert "case.recusal_refused" in kinds_for(world.plaintiff)
    assert kinds_for(world.defendant).count("case.recusal_refused") == 0
    client.force_login(world.plaintiff)
    assert (
        "No ground for recusal was shown." in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    )
    # The other side sees neither the application nor its reasons.
    client.force_login(world.defendant)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "used to advise the defendant" not in page
    assert "No ground for recusal was shown." not in page


@pytest.mark.parametrize("who", ["mediator", "other_judge", "liaison", "head", "plaintiff", "nobody"])
def test_only_the_cases_judge_decides(world, people, who, new_mediator):
    request = ask(world)
    actor = world.plaintiff if who == "plaintiff" else people[who]
    with pytest.raises(ActionForbidden):
        decide_recusal(request=request, actor=actor, grant=True, note="Granted", new_mediator=new_mediator)
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_general_liaison_decides_where_the_case_has_no_judge(mediator, liaison, new_mediator):
    world = make_case(mediator, None)
    request = ask(world)
    decide_recusal(request=request, actor=liaison, grant=True, note="Granted", new_mediator=new_mediator)
    assert MediationCase.objects.get(pk=world.case.pk).mediator == new_mediator


def test_a_suspended_new_mediator_is_refused(world, judge):
    org = organisation()
    suspended = roster_mediator(org, full_name="Suspended", status=MediatorProfile.Status.SUSPENDED)
    request = ask(world)
    with pytest.raises(ValidationError) as error:
        decide_recusal(request=request, actor=judge, grant=True, note="Granted", new_mediator=suspended)
    assert "mediator" in error.value.message_dict
    request.refresh_from_db()
    assert request.status == "pending"
    assert MediationCase.objects.get(pk=world.case.pk).mediator == world.mediator


@pytest.mark.parametrize("who", ["same", "judge", "participant", "none", "not_mediator"])
def test_the_new_mediator_must_be_someone_else_who_may_mediate(world, judge, who):
    request = ask(world)
    new = {
        "same": world.mediator,
        "judge": judge,
        "participant": world.defendant,
        "none": None,
        "not_mediator": UserFactory(full_name="Not a mediator"),
    }[who]
    with pytest.raises(ValidationError):
        decide_recusal(request=request, actor=judge, grant=True, note="Granted", new_mediator=new)
    request.refresh_from_db()
    assert request.status == "pending"


def test_a_decision_needs_reasons_and_is_taken_once(world, judge, new_mediator):
    request = ask(world)
    with pytest.raises(ValidationError):
        decide_recusal(request=request, actor=judge, grant=False, note=" ")
    decide_recusal(request=request, actor=judge, grant=False, note="No ground.")
    with pytest.raises(TransitionNotAllowed):
        decide_recusal(request=request, actor=judge, grant=True, note="Changed my mind", new_mediator=new_mediator)


# Pages ----------------------------------------------------------------------------------------


def test_a_party_asks_and_the_judge_grants_from_the_case_page(client, world, judge, new_mediator):
    url = reverse("case_detail", args=[world.case.pk])
    client.force_login(world.plaintiff)
    assert "request_recusal" in client.get(url).context["action_forms"]
    response = client.post(
        reverse("case_action", args=[world.case.pk, "request_recusal"]),
        {"request_recusal-reason": "Conflict of interest."},
    )
    assert response.status_code == 302
    request = RecusalRequest.objects.get()
    again = client.post(
        reverse("case_action", args=[world.case.pk, "request_recusal"]),
        {"request_recusal-reason": "Again."},
    )
    assert again.status_code == 409 and RecusalRequest.objects.count() == 1

    client.force_login(judge)
    assert "decide_recusal" in client.get(url).context["action_forms"]
    response = client.post(
        reverse("case_action", args=[world.case.pk, "decide_recusal"]),
        {
            "decide_recusal-request": request.pk,
            "decide_recusal-grant": "yes",
            "decide_recusal-new_mediator": new_mediator.pk,
            "decide_recusal-note": "Conflict shown.",
        },
    )
    assert response.status_code == 302
    assert MediationCase.objects.get(pk=world.case.pk).mediator == new_mediator
    # The replaced mediator can no longer open the case.
    client.force_login(world.mediator)
    assert client.get(url).status_code == 404


def test_granting_on_the_page_without_a_new_mediator_is_refused(client, world, judge):
    request = ask(world)
    client.force_login(judge)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "decide_recusal"]),
        {"decide_recusal-request": request.pk, "decide_recusal-grant": "yes", "decide_recusal-note": "Granted"},
    )
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == "pending"


def test_an_interpreter_is_not_offered_the_form_and_cannot_post_it(client, world):
    interpreter = attach(world, "interpreter")
    client.force_login(interpreter)
    assert "request_recusal" not in client.get(reverse("case_detail", args=[world.case.pk])).context["action_forms"]
    response = client.post(
        reverse("case_action", args=[world.case.pk, "request_recusal"]), {"request_recusal-reason": "Dislike."}
    )
    assert response.status_code == 403
    assert not RecusalRequest.objects.exists()
