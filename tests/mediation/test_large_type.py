"""Large type (大字模式): switched on from any page, kept across pages and requests
(on the account when signed in, in the session before), and the party's pages
explain themselves in plain words while it is on."""

import pytest
from django.urls import reverse

from mediation.models import User
from tests.cases import make_case
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LARGE_BODY = '<body class="large-type">'


def switch(client, on=None, next_url="/apply/"):
    data = {"next": next_url}
    if on is not None:
        data["on"] = on
    return client.post(reverse("large_type"), data)


def test_every_page_offers_the_switch(client, nobody):
    html = client.get(reverse("apply")).content.decode()
    assert 'action="/large-type/"' in html and 'aria-pressed="false"' in html
    client.force_login(nobody)
    assert 'action="/large-type/"' in client.get(reverse("my_cases")).content.decode()


def test_a_visitor_switches_it_on_and_it_stays_across_pages(client):
    response = switch(client, on="1", next_url="/apply/")
    assert response.status_code == 302 and response.url == "/apply/"
    for url in (reverse("apply"), reverse("apply_track"), reverse("apply")):
        html = client.get(url).content.decode()
        assert LARGE_BODY in html, url
        assert "data-large-type-switch>" in html and 'aria-pressed="true"' in html
    switch(client, on="0")
    assert LARGE_BODY not in client.get(reverse("apply")).content.decode()


def test_a_signed_in_person_keeps_it_on_every_device(client, nobody):
    client.force_login(nobody)
    switch(client, on="1", next_url="/my-cases/")
    assert User.objects.get(pk=nobody.pk).large_type
    assert LARGE_BODY in client.get(reverse("my_cases")).content.decode()
    # Another browser: a new session, same account.
    client.logout()
    client.force_login(nobody)
    assert LARGE_BODY in client.get(reverse("notifications")).content.decode()


def test_without_a_wanted_state_the_switch_flips(client, nobody):
    client.force_login(nobody)
    switch(client)
    assert User.objects.get(pk=nobody.pk).large_type
    switch(client)
    assert not User.objects.get(pk=nobody.pk).large_type


def test_switching_on_before_signing_in_carries_over_to_the_account(client):
    person = UserFactory(email="elder@example.test")
    switch(client, on="1")
    response = client.post(reverse("account_login"), {"login": "elder@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).large_type


def test_the_switch_goes_back_only_to_pages_of_the_platform(client):
    assert switch(client, on="1", next_url="https://evil.example/").url == "/"
    assert switch(client, on="1", next_url="//evil.example/x").url == "/"


def test_the_switch_takes_posts_only(client):
    assert client.get(reverse("large_type")).status_code == 405


def test_someone_elses_setting_is_untouched(client, nobody):
    other = UserFactory()
    client.force_login(nobody)
    switch(client, on="1")
    assert not User.objects.get(pk=other.pk).large_type


def test_the_party_pages_explain_themselves_in_plain_words_in_large_type(client, mediator):
    world = make_case(mediator)
    client.force_login(world.defendant)
    case_url = reverse("case_detail", args=[world.case.pk])
    assert "data-plain-language" not in client.get(reverse("my_cases")).content.decode()
    assert "data-plain-language" not in client.get(case_url).content.decode()
    switch(client, on="1")
    assert 'data-plain-language="my_cases"' in client.get(reverse("my_cases")).content.decode()
    assert "A mediator helps both sides reach an agreement." in client.get(case_url).content.decode()


def test_staff_case_page_has_no_party_explanation(client, mediator):
    world = make_case(mediator)
    client.force_login(mediator)
    switch(client, on="1")
    html = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert LARGE_BODY in html
    assert "data-plain-language" not in html
