"""A citizen on a 360 px phone, in Chinese, looks for a mediator on the public roster
(/mediators/), narrows it to her dispute's cause of action, and applies with the one
she chose: the application form has him preselected. The same roster in English after
the language switcher; an organisation admin edits her own mediator's profile on a
phone."""

from __future__ import annotations

import pytest

from mediation.models import MediationOrganisation, MediatorProfile
from mediation.roles import Role
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import label
from tests.factories import UserFactory
from tests.roster import make_organisation, make_organisation_admin, make_roster_mediator

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def make_roster():
    committee = make_organisation(name="八里庄街道人民调解委员会", region="北京市朝阳区", contact_phone="010-65000002")
    centre = make_organisation(
        name="华商商事调解中心", kind=MediationOrganisation.Kind.COMMERCIAL, region="北京市东城区"
    )
    neighbour = make_roster_mediator(
        committee,
        causes=["相邻关系纠纷", "婚姻家庭纠纷"],
        title="退休法官",
        biography="在基层法院从事民事审判三十年。",
        user=UserFactory(roles=[Role.MEDIATOR], full_name="马建国"),
    )
    make_roster_mediator(
        centre,
        causes=["买卖合同纠纷"],
        title="律师",
        fee="每件 3000 元",
        languages="普通话、English",
        user=UserFactory(roles=[Role.MEDIATOR], full_name="林志远"),
    )
    admin = make_organisation_admin(committee, full_name="王红梅")
    return neighbour.mediator_profile, admin


def test_a_citizen_chooses_a_mediator_on_the_public_roster_and_applies_with_him(journey):
    journey.language = "zh-hans"
    t = journey.t
    journey.data += ["English"]
    profile, admin = off_the_loop(make_roster)
    citizen = journey.person("citizen", phone=True, width=360)
    page = citizen.page

    citizen.goto("/mediators/", "public roster")
    assert page.locator("h1").inner_text() == t("Roster of mediators")
    assert page.locator("[data-mediator]").count() == 2
    assert "010-65000002" not in citizen.text()

    page.get_by_label(label(t("Cause of action"))).select_option("相邻关系纠纷")
    citizen.submit(page.get_by_role("button", name=t("Show")), "filtered by cause")
    assert page.locator("[data-mediator]").count() == 1
    entry = page.locator(f"#mediator-{profile.pk}")
    assert "马建国" in entry.inner_text() and "退休法官" in entry.inner_text()

    citizen.submit(entry.get_by_role("link", name=t("Apply with this mediator")), "application with her mediator")
    chosen = page.get_by_label(label(t("Mediator you would like")))
    assert chosen.input_value() == str(profile.pk)

    # The same roster in English.
    citizen.goto("/mediators/", "public roster again")
    journey.language = "en"
    citizen.switch_language("en")
    assert page.locator("h1").inner_text() == "Roster of mediators"
    assert "Neighbour dispute" in page.locator(f"#mediator-{profile.pk}").inner_text()

    # The committee's admin edits her mediator's profile on a phone.
    journey.language = "zh-hans"
    office = journey.person("organisation admin", phone=True, width=360)
    office.sign_in(admin)
    office.goto(f"/organisations/mediators/{profile.pk}/profile/", "profile form")
    office.page.get_by_label(label(t("Languages"))).fill("普通话、粤语")
    office.submit(office.page.get_by_role("button", name=t("Save")), "organisation page")
    assert off_the_loop(lambda: MediatorProfile.objects.get(pk=profile.pk).languages) == "普通话、粤语"
