"""The roster: who may be assigned, the court's management pages, an organisation
admin's own mediators, the public roster at /mediators/ and a mediator chosen on
/apply/. Refusals first: each changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mediation.errors import ActionForbidden
from mediation.models import Application, AuditEntry, MediationOrganisation, MediatorProfile, User, WorkOrder
from mediation.roles import Role
from mediation.roster import assignable_mediators, assignment_refusal
from mediation.services import roster as services
from tests.factories import UserFactory
from tests.mediation.test_applications import ask_code, form, last_code
from tests.roster import make_organisation, make_organisation_admin, make_roster_mediator

pytestmark = pytest.mark.django_db

COMMERCIAL = MediationOrganisation.Kind.COMMERCIAL
ROSTER = "/mediators/"


def today():
    return timezone.localdate()


@pytest.fixture
def committee():
    return make_organisation(name="朝阳区八里庄街道人民调解委员会", region="北京市朝阳区")


@pytest.fixture
def centre():
    return make_organisation(name="北京华信商事调解中心", kind=COMMERCIAL, region="北京市东城区")


# Who may be assigned -------------------------------------------------------------------


def test_mediator_whose_appointment_ended_cannot_be_assigned(committee):
    mediator = make_roster_mediator(committee, term=(today() - dt.timedelta(days=400), today() - dt.timedelta(days=1)))
    assert "appointment ended" in assignment_refusal(mediator)
    assert mediator not in assignable_mediators()


def test_mediator_whose_appointment_has_not_started_cannot_be_assigned(committee):
    mediator = make_roster_mediator(committee, term=(today() + dt.timedelta(days=1), today() + dt.timedelta(days=30)))
    assert "starts on" in assignment_refusal(mediator)


def test_suspended_or_dismissed_mediator_cannot_be_assigned(committee):
    suspended = make_roster_mediator(committee, status=MediatorProfile.Status.SUSPENDED)
    dismissed = make_roster_mediator(committee, status=MediatorProfile.Status.DISMISSED)
    assert "suspended" in assignment_refusal(suspended)
    assert "dismissed" in assignment_refusal(dismissed)
    assert set(assignable_mediators()).isdisjoint({suspended, dismissed})


def test_mediator_of_another_organisation_cannot_be_given_its_case(committee, centre):
    mediator = make_roster_mediator(committee)
    assert assignment_refusal(mediator) is None
    assert "is not a mediator of" in assignment_refusal(mediator, organisation=centre)


def test_suspending_through_the_court_stops_assignment_and_is_audited(liaison, committee):
    mediator = make_roster_mediator(committee)
    services.update_appointment(
        actor=liaison, profile=mediator.mediator_profile, status="suspended", status_reason="Under review"
    )
    assert "suspended" in assignment_refusal(User.objects.get(pk=mediator.pk))
    entry = AuditEntry.objects.get(action="roster.appointment_changed")
    assert entry.data["from"] == "active" and entry.data["to"] == "suspended"
    # The reason is free text: the trail keeps its keyed hash only.
    assert "Under review" not in str(entry.data)


# Refusals of the services --------------------------------------------------------------


def test_fee_is_refused_for_a_mediator_of_a_non_commercial_organisation(liaison, committee):
    mediator = make_roster_mediator(committee)
    with pytest.raises(ValidationError) as refused:
        services.update_mediator_profile(actor=liaison, profile=mediator.mediator_profile, fee="500 yuan per case")
    assert "commercial" in refused.value.message_dict["fee"][0]
    assert MediatorProfile.objects.get(user=mediator).fee == ""
    assert not AuditEntry.objects.filter(action="roster.profile_updated").exists()


def test_fee_is_accepted_for_a_commercial_organisations_mediator(liaison, centre):
    mediator = make_roster_mediator(centre)
    services.update_mediator_profile(actor=liaison, profile=mediator.mediator_profile, fee="每件 2000 元")
    assert MediatorProfile.objects.get(user=mediator).fee == "每件 2000 元"


def test_an_organisation_whose_mediators_charge_cannot_stop_being_commercial(liaison, centre):
    make_roster_mediator(centre, fee="每件 2000 元")
    with pytest.raises(ValidationError) as refused:
        services.update_organisation(actor=liaison, organisation=centre, kind="industry")
    assert "kind" in refused.value.message_dict
    assert MediationOrganisation.objects.get(pk=centre.pk).kind == COMMERCIAL


def test_appointing_someone_without_the_mediator_role_is_refused(liaison, committee):
    judge = UserFactory(roles=[Role.JUDGE])
    with pytest.raises(ValidationError) as refused:
        services.appoint_mediator(
            actor=liaison,
            user=judge,
            organisation=committee,
            term_starts_on=today(),
            term_ends_on=today() + dt.timedelta(days=365),
        )
    assert "user" in refused.value.message_dict
    assert not MediatorProfile.objects.exists()


def test_an_appointment_cannot_end_before_it_starts_nor_suspend_without_a_reason(liaison, committee):
    mediator = UserFactory(roles=[Role.MEDIATOR])
    with pytest.raises(ValidationError) as refused:
        services.appoint_mediator(
            actor=liaison,
            user=mediator,
            organisation=committee,
            term_starts_on=today(),
            term_ends_on=today() - dt.timedelta(days=1),
            status="suspended",
            specialties=["不存在的案由"],
        )
    assert set(refused.value.message_dict) == {"term_ends_on", "status_reason", "specialties"}
    assert not MediatorProfile.objects.exists()


def test_an_organisation_admin_cannot_change_term_or_status(committee):
    admin = make_organisation_admin(committee)
    mediator = make_roster_mediator(committee)
    with pytest.raises(ActionForbidden):
        services.update_appointment(actor=admin, profile=mediator.mediator_profile, status="dismissed")
    with pytest.raises(ActionForbidden):
        services.update_mediator_profile(
            actor=admin, profile=mediator.mediator_profile, term_ends_on=today() + dt.timedelta(days=3000)
        )
    assert MediatorProfile.objects.get(user=mediator).status == "active"


def test_only_members_of_the_organisation_admin_role_can_be_made_admins(liaison, committee):
    with pytest.raises(ValidationError):
        services.add_organisation_admin(actor=liaison, organisation=committee, user=UserFactory())
    assert not committee.admins.exists()
    admin = UserFactory(roles=[Role.ORGANISATION_ADMIN])
    services.add_organisation_admin(actor=liaison, organisation=committee, user=admin)
    assert list(committee.admins.all()) == [admin]
    services.remove_organisation_admin(actor=liaison, organisation=committee, user=admin)
    assert not committee.admins.exists()
    assert AuditEntry.objects.filter(action__in=["roster.admin_added", "roster.admin_removed"]).count() == 2


# Management pages ----------------------------------------------------------------------


def test_the_general_liaison_creates_an_organisation_and_appoints_a_mediator(client, liaison):
    client.force_login(liaison)
    response = client.post(
        reverse("organisation_new"),
        {
            "name": "东城区商事调解中心",
            "kind": COMMERCIAL,
            "region": "北京市东城区",
            "contact_phone": "010-12345678",
            "is_published": "on",
            "is_active": "on",
        },
    )
    organisation = MediationOrganisation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("organisation_detail", args=[organisation.pk])
    mediator = UserFactory(roles=[Role.MEDIATOR], full_name="孙丽")
    response = client.post(
        reverse("mediator_appoint", args=[organisation.pk]),
        {
            "user": mediator.pk,
            "organisation": organisation.pk,
            "term_starts_on": today().isoformat(),
            "term_ends_on": (today() + dt.timedelta(days=730)).isoformat(),
            "status": "active",
            "title": "律师",
            "specialties": ["买卖合同纠纷", "合同纠纷"],
            "fee": "每件 3000 元",
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    profile = MediatorProfile.objects.get(user=mediator)
    assert sorted(s.cause_of_action for s in profile.specialties.all()) == ["买卖合同纠纷", "合同纠纷"]
    assert assignment_refusal(mediator) is None
    page = client.get(reverse("organisation_detail", args=[organisation.pk])).content.decode()
    assert "孙丽" in page and "010-12345678" in page
    assert AuditEntry.objects.filter(action="roster.organisation_created").exists()
    assert AuditEntry.objects.filter(action="roster.mediator_appointed").exists()


def test_the_page_refuses_a_fee_for_a_committee_mediator_with_a_clear_message(client, liaison, committee):
    mediator = make_roster_mediator(committee)
    client.force_login(liaison)
    response = client.post(
        reverse("mediator_profile_edit", args=[mediator.mediator_profile.pk]), {"fee": "200 元", "is_published": "on"}
    )
    assert response.status_code == 400
    assert "commercial" in " ".join(response.context["form"].errors["fee"])
    assert MediatorProfile.objects.get(user=mediator).fee == ""


def test_an_organisation_admin_edits_their_own_mediators_profile(client, committee):
    admin = make_organisation_admin(committee)
    mediator = make_roster_mediator(committee, causes=["劳动争议"])
    client.force_login(admin)
    assert client.get(reverse("organisation_list")).status_code == 200
    response = client.post(
        reverse("mediator_profile_edit", args=[mediator.mediator_profile.pk]),
        {"title": "退休法官", "languages": "普通话、粤语", "specialties": ["婚姻家庭纠纷"], "is_published": "on"},
    )
    assert response.status_code == 302
    profile = MediatorProfile.objects.get(user=mediator)
    assert (profile.title, profile.languages) == ("退休法官", "普通话、粤语")
    assert [s.cause_of_action for s in profile.specialties.all()] == ["婚姻家庭纠纷"]
    assert AuditEntry.objects.get(action="roster.profile_updated").actor_id == admin.pk


def test_an_organisation_admin_cannot_see_or_edit_another_organisations(client, committee, centre):
    admin = make_organisation_admin(committee)
    other = make_roster_mediator(centre)
    client.force_login(admin)
    assert client.get(reverse("organisation_detail", args=[centre.pk])).status_code == 403
    assert client.get(reverse("mediator_profile_edit", args=[other.mediator_profile.pk])).status_code == 403
    response = client.post(
        reverse("mediator_profile_edit", args=[other.mediator_profile.pk]), {"title": "Changed", "is_published": ""}
    )
    assert response.status_code == 403
    assert MediatorProfile.objects.get(user=other).title == ""
    listed = client.get(reverse("organisation_list")).content.decode()
    assert committee.name in listed and centre.name not in listed


def test_an_organisation_admin_cannot_manage_organisations_or_appointments(client, committee):
    admin = make_organisation_admin(committee)
    mediator = make_roster_mediator(committee)
    client.force_login(admin)
    assert client.get(reverse("organisation_new")).status_code == 403
    assert client.get(reverse("organisation_edit", args=[committee.pk])).status_code == 403
    assert client.get(reverse("mediator_appoint", args=[committee.pk])).status_code == 403
    response = client.post(
        reverse("mediator_appointment_edit", args=[mediator.mediator_profile.pk]),
        {
            "organisation": committee.pk,
            "term_starts_on": today().isoformat(),
            "term_ends_on": (today() + dt.timedelta(days=5000)).isoformat(),
            "status": "active",
        },
    )
    assert response.status_code == 403
    response = client.post(
        reverse("organisation_admins", args=[committee.pk]), {"action": "add", "user": UserFactory().pk}
    )
    assert response.status_code == 403
    assert list(committee.admins.all()) == [admin]


def test_an_admin_in_the_group_but_not_of_the_organisation_is_refused(client, committee):
    outsider = UserFactory(roles=[Role.ORGANISATION_ADMIN])
    client.force_login(outsider)
    assert client.get(reverse("organisation_detail", args=[committee.pk])).status_code == 403


@pytest.mark.parametrize("who", ["judge", "mediator", "dept_liaison", "nobody"])
def test_other_staff_and_strangers_cannot_open_the_roster_pages(client, people, committee, who):
    mediator = make_roster_mediator(committee)
    client.force_login(people[who])
    for url in (
        reverse("organisation_list"),
        reverse("organisation_detail", args=[committee.pk]),
        reverse("mediator_profile_edit", args=[mediator.mediator_profile.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(client, committee):
    response = client.get(reverse("organisation_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_staff_navigation_links_the_roster_for_liaison_and_organisation_admins(client, liaison, committee, judge):
    for user, shown in ((liaison, True), (make_organisation_admin(committee), True), (judge, False)):
        client.force_login(user)
        page = client.get(reverse("notifications")).content.decode()
        assert (reverse("organisation_list") in page) is shown


# The public roster -----------------------------------------------------------------------


def test_the_public_roster_shows_published_active_mediators_without_contacts(client, centre):
    centre.contact_phone = "010-87654321"
    centre.contact_email = "office@centre.example"
    centre.contact_name = "王主任"
    centre.description = "商事纠纷调解"
    centre.save()
    mediator = make_roster_mediator(
        centre,
        causes=["买卖合同纠纷"],
        title="律师",
        languages="普通话、English",
        biography="二十年商事律师执业经验。",
        fee="每件 2000 元",
        user=UserFactory(
            roles=[Role.MEDIATOR], full_name="周明", email="zhou.ming@example.test", phone="+8613700137000"
        ),
    )
    response = client.get(ROSTER)
    page = response.content.decode()
    assert response.status_code == 200
    profile = mediator.mediator_profile
    assert f'id="mediator-{profile.pk}"' in page
    shown_facts = ("周明", "律师", centre.name, "北京市东城区", "买卖合同纠纷")
    shown_facts += ("普通话、English", "二十年", "每件 2000 元")
    for shown in shown_facts:
        assert shown in page, shown
    for hidden in ("010-87654321", "office@centre.example", "王主任", "zhou.ming@example.test", "13700137000", "@"):
        assert hidden not in page.split("<main", 1)[1], hidden
    assert f"{reverse('apply')}?mediator={profile.pk}" in page


def test_the_public_roster_hides_the_unpublished_suspended_expired_and_inactive(client, committee):
    hidden_org = make_organisation(name="未公开的调解委员会", is_published=False)
    inactive_org = make_organisation(name="已撤销的调解委员会", is_active=False)
    shown = make_roster_mediator(committee, user=UserFactory(roles=[Role.MEDIATOR], full_name="公开调解员"))
    hidden = [
        make_roster_mediator(committee, is_published=False, user=UserFactory(roles=[Role.MEDIATOR], full_name="甲")),
        make_roster_mediator(committee, status="suspended", user=UserFactory(roles=[Role.MEDIATOR], full_name="乙")),
        make_roster_mediator(
            committee,
            term=(today() - dt.timedelta(days=800), today() - dt.timedelta(days=1)),
            user=UserFactory(roles=[Role.MEDIATOR], full_name="丙"),
        ),
        make_roster_mediator(hidden_org, user=UserFactory(roles=[Role.MEDIATOR], full_name="丁")),
        make_roster_mediator(inactive_org, user=UserFactory(roles=[Role.MEDIATOR], full_name="戊")),
    ]
    response = client.get(ROSTER)
    ids = {entry["id"] for entry in response.context["mediators"]}
    assert ids == {shown.mediator_profile.pk}
    page = response.content.decode()
    assert hidden_org.name not in page and inactive_org.name not in page
    assert all(f'id="mediator-{user.mediator_profile.pk}"' not in page for user in hidden)


def test_the_public_roster_filters_by_cause_of_action_and_region(client, committee, centre):
    neighbour = make_roster_mediator(committee, causes=["相邻关系纠纷"])
    trader = make_roster_mediator(centre, causes=["买卖合同纠纷"])
    travelling = make_roster_mediator(committee, causes=["买卖合同纠纷"], region="北京市海淀区")

    def shown(**params):
        return {entry["id"] for entry in client.get(ROSTER, params).context["mediators"]}

    assert shown() == {p.mediator_profile.pk for p in (neighbour, trader, travelling)}
    assert shown(cause="买卖合同纠纷") == {trader.mediator_profile.pk, travelling.mediator_profile.pk}
    assert shown(region="北京市东城区") == {trader.mediator_profile.pk}
    assert shown(cause="买卖合同纠纷", region="北京市朝阳区") == {travelling.mediator_profile.pk}
    assert shown(region="北京市海淀区") == {travelling.mediator_profile.pk}


@pytest.mark.parametrize("params", [{"cause": "<script>"}, {"region": "火星"}, {"page": "abc"}])
def test_a_bad_filter_gets_a_clear_message_not_an_error(client, committee, params):
    make_roster_mediator(committee)
    response = client.get(ROSTER, params)
    assert response.status_code == 200
    if "page" not in params:
        page = response.content.decode()
        assert "data-filter-error" in page
        # The bad value is not repeated back.
        assert "<script>" not in page and "火星" not in page
    assert len(response.context["mediators"]) == 1


def test_the_public_roster_is_paginated(client, committee):
    for _number in range(23):
        make_roster_mediator(committee)
    first = client.get(ROSTER)
    second = client.get(ROSTER, {"page": 2})
    assert len(first.context["mediators"]) == 20 and len(second.context["mediators"]) == 3
    assert 'rel="next"' in first.content.decode()


def test_the_public_roster_is_in_chinese_and_english(client, committee):
    make_roster_mediator(committee, causes=["劳动争议"])
    chinese = client.get(ROSTER, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "调解员名册" in chinese and "劳动争议" in chinese
    english = client.get(ROSTER, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Roster of mediators" in english and '<span lang="zh-Hans">劳动争议</span> (Labour dispute)' in english


# A mediator chosen on /apply/ --------------------------------------------------------------


def test_the_rosters_link_preselects_the_mediator_on_the_application(client, committee):
    profile = make_roster_mediator(committee).mediator_profile
    response = client.get(reverse("apply"), {"mediator": profile.pk})
    assert response.context["form"]["preferred_mediator"].value() == str(profile.pk)
    assert f'<option value="{profile.pk}" selected>' in response.content.decode()


def test_a_link_to_a_mediator_off_the_roster_says_so(client, committee):
    profile = make_roster_mediator(committee, status="suspended").mediator_profile
    response = client.get(reverse("apply"), {"mediator": profile.pk})
    assert response.status_code == 200
    assert "data-mediator-refused" in response.content.decode()
    assert response.context["form"]["preferred_mediator"].value() in (None, "")


def test_applying_with_a_chosen_mediator_stores_it_and_the_liaison_sees_it(client, committee, liaison):
    profile = make_roster_mediator(
        committee, user=UserFactory(roles=[Role.MEDIATOR], full_name="马建国")
    ).mediator_profile
    ask_code(client)
    response = client.post(reverse("apply"), form(code=last_code(), preferred_mediator=str(profile.pk)))
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.application.preferred_mediator == profile
    client.force_login(liaison)
    page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    assert "data-preferred-mediator" in page and "马建国" in page and committee.name in page


def test_applying_with_a_mediator_not_on_the_public_roster_is_refused_and_keeps_the_code(client, committee):
    hidden = make_roster_mediator(committee, is_published=False).mediator_profile
    ask_code(client)
    code = last_code()
    for chosen in (str(hidden.pk), "999999", "abc"):
        response = client.post(reverse("apply"), form(code=code, preferred_mediator=chosen))
        assert response.status_code == 400
        assert "public roster" in " ".join(response.context["form"].errors["preferred_mediator"])
    assert not Application.objects.exists()
    # The code was not used by the refusals.
    response = client.post(reverse("apply"), form(code=code, preferred_mediator=""))
    assert response.status_code == 302
    assert WorkOrder.objects.get().application.preferred_mediator is None


# The demo ------------------------------------------------------------------------------------


def test_the_demo_roster_fills_the_public_roster_once(client, liaison, mediator):
    from mediation.demo_roster import roster_logins, seed_roster

    people = {"liaison": liaison, "mediator": mediator}
    assert seed_roster(people, "demo-password") == 6
    assert seed_roster(people, "demo-password") == 6
    kinds = set(MediationOrganisation.objects.values_list("kind", flat=True))
    assert kinds == {"court", "peoples_committee", "commercial"}
    assert assignment_refusal(User.objects.get(pk=mediator.pk)) is None
    committee = MediationOrganisation.objects.get(name="朝阳区八里庄街道人民调解委员会")
    assert committee.admins.get().email == "committee.admin@demo.court"
    page = client.get(ROSTER, {"cause": "相邻关系纠纷"}).content.decode()
    assert "马建国" in page and "林志远" not in page
    assert len(roster_logins()) == 7


def test_the_public_api_takes_a_chosen_mediator_and_refuses_one_off_the_roster(committee):
    from rest_framework.test import APIClient

    from tests.mediation import test_public_api as public_api

    api = APIClient(enforce_csrf_checks=True)
    hidden = make_roster_mediator(committee, status="dismissed", status_reason="Left").mediator_profile
    shown = make_roster_mediator(committee).mediator_profile
    public_api.ask(api)
    code = public_api.last_code()
    refused = api.post(
        public_api.APPLICATIONS, public_api.application(code=code, preferred_mediator=hidden.pk), format="json"
    )
    assert refused.status_code == 400 and "public roster" in refused.json()["preferred_mediator"][0]
    assert not Application.objects.exists()
    accepted = api.post(
        public_api.APPLICATIONS, public_api.application(code=code, preferred_mediator=shown.pk), format="json"
    )
    assert accepted.status_code == 201
    assert Application.objects.get().preferred_mediator == shown
