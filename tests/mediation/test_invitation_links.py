"""What an invitation shows: to the person invited, who the court is, which case, on
which side, and whom to call to check it is genuine; to the mediator, a link to copy,
a QR code, and a warning when the links sent would point at another address than the
one in use (SITE_URL)."""

import html
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from mediation.checks import check_site_url
from mediation.links import site_url_mismatch
from mediation.services import cases
from mediation.services.invitations import invite_participant
from tests.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    people["mediator"].phone = "+8613911112222"
    people["mediator"].save(update_fields=["phone"])
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def sun_guilan(world):
    """A natural person as defendant, invited in person."""
    return cases.add_party(case=world.case, actor=world.mediator, side="defendant", kind="person", name="孙桂兰")


def invitation_page(client, token, language="zh-hans"):
    client.cookies["django_language"] = language
    with translation.override(language):
        response = client.get(reverse("invitation", args=[token]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


# The invitation page, as the invited person sees it -----------------------------------------


def test_a_party_invited_in_person_is_told_court_case_side_and_whom_to_call(client, world, sun_guilan, settings):
    settings.COURT_NAME = "北京市石景山区人民法院"
    settings.COURT_CONTACT_PHONE = "12368"
    _invitation, token = invite_participant(
        case=world.case, actor=world.mediator, party=sun_guilan, role="party", full_name="孙桂兰", phone="13800138000"
    )

    page = invitation_page(client, token, "zh-hans")

    assert "北京市石景山区人民法院邀请您以被告身份参加诉前调解案件" in page
    assert world.case.number in page
    assert "合同纠纷" in page
    assert str(world.mediator) in page
    assert "12368" in page and 'href="tel:12368"' in page
    assert "139 1111 2222" in page
    assert "法院绝不会要求您转账汇款或提供银行账户信息" in page
    # Never "you are invited to represent 孙桂兰" to 孙桂兰 herself.
    assert "代表孙桂兰" not in page
    assert "您代表" not in page


def test_the_invitation_page_speaks_english_too(client, world, sun_guilan):
    _invitation, token = invite_participant(
        case=world.case, actor=world.mediator, party=sun_guilan, role="party", phone="13800138000"
    )

    page = invitation_page(client, token, "en")

    assert f"invites you to take part in pre-litigation mediation case {world.case.number} as the Defendant." in page
    assert "To check that this invitation is genuine, call" in page
    assert "The court will never ask you for money or bank details." in page
    assert "You act for" not in page


def test_an_agent_is_told_whom_they_act_for_and_on_which_side(client, world):
    party = world.plaintiff_participant.party
    _invitation, token = invite_participant(
        case=world.case, actor=world.mediator, party=party, role="agent", full_name="王律师", phone="13800138000"
    )

    page = invitation_page(client, token, "zh-hans")

    assert f"邀请您作为{party.name}（原告）的" in page
    assert party.name in page
    assert "您代表" in page


def test_the_invitation_page_fits_a_phone(client, world, sun_guilan):
    _invitation, token = invite_participant(
        case=world.case, actor=world.mediator, party=sun_guilan, role="party", phone="13800138000"
    )
    page = invitation_page(client, token, "zh-hans")
    assert 'name="viewport"' in page and "width=device-width" in page
    # The number to check the invitation is one tap away.
    assert re.search(r'<a class="button" href="tel:\d+">', page)


# The mediator's invitation panel -------------------------------------------------------------


def invite_from_page(client, world, party):
    client.force_login(world.mediator)
    return client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": party.pk, "invite-role": "party", "invite-full_name": "孙桂兰", "invite-phone": "13800138000"},
    )


def test_the_invitation_panel_has_a_copy_button_and_a_qr_code_of_the_link(client, world, sun_guilan, settings):
    settings.SITE_URL = "http://testserver"
    response = invite_from_page(client, world, sun_guilan)
    assert response.status_code == 200
    page = response.content.decode()
    link = html.unescape(re.search(r'value="([^"]+)"[^>]*data-invitation-link', page).group(1))
    assert link.startswith("http://testserver/invite/")
    assert 'data-copy-from="invitation-link"' in page
    qr = page.split("data-invitation-qr")[1].split("</figure>")[0]
    assert "<svg" in qr and "<path" in qr
    # The same link, drawn as segno draws it.
    import segno

    assert segno.make(link, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")[-200:] in qr
    assert "data-site-url-mismatch" not in page


def test_the_qr_code_is_only_in_the_mediators_answer(client, world, sun_guilan):
    # The judge of the case may not invite: no link, no QR code.
    client.force_login(world.judge)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": sun_guilan.pk, "invite-role": "party"},
    )
    assert response.status_code == 403
    assert b"<svg" not in response.content
    # Nor does the case page carry it afterwards, for anyone.
    invite_from_page(client, world, sun_guilan)
    for user in (world.mediator, world.judge, world.plaintiff, world.defendant):
        client.force_login(user)
        page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
        assert "data-invitation-qr" not in page and "<svg" not in page
        assert not re.search(r"/invite/[A-Za-z0-9_-]{20,}", page)


def test_the_mediator_is_warned_when_links_point_elsewhere(client, world, sun_guilan, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    response = invite_from_page(client, world, sun_guilan)
    page = re.sub(r"\s+", " ", html.unescape(response.content.decode()))
    assert "data-site-url-mismatch" in page
    assert "Links sent from here point to http://127.0.0.1:8000, but you are using http://testserver" in page
    # And on the case page, where the mediator would invite.
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "data-site-url-mismatch" in page


def test_no_warning_for_those_who_send_no_links(client, world, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    for user in (world.judge, world.plaintiff):
        client.force_login(user)
        page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
        assert "data-site-url-mismatch" not in page


@pytest.mark.parametrize(
    "site_url, secure, host, differs",
    [
        ("https://mediation.court.example", True, "mediation.court.example", False),
        ("https://mediation.court.example/", True, "mediation.court.example:443", False),
        ("https://Mediation.Court.Example", True, "mediation.court.example", False),
        ("http://127.0.0.1:8000", True, "mediation.court.example", True),
        ("https://mediation.court.example", False, "mediation.court.example", True),
        ("https://mediation.court.example", True, "mediation.court.example:8443", True),
        ("https://other.court.example", True, "mediation.court.example", True),
    ],
)
def test_site_url_is_compared_by_scheme_host_and_port(rf, settings, site_url, secure, host, differs):
    settings.SITE_URL = site_url
    settings.ALLOWED_HOSTS = ["mediation.court.example"]
    request = rf.get("/", secure=secure, HTTP_HOST=host)
    assert (site_url_mismatch(request) is not None) == differs


def test_the_proxys_https_header_counts(rf, settings):
    settings.SITE_URL = "https://mediation.court.example"
    settings.ALLOWED_HOSTS = ["mediation.court.example"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = rf.get("/", HTTP_HOST="mediation.court.example", HTTP_X_FORWARDED_PROTO="https")
    assert site_url_mismatch(request) is None


# check --deploy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "site_url, hosts, expected",
    [
        ("https://mediation.court.example", ["mediation.court.example"], set()),
        ("https://mediation.court.example", [".court.example"], set()),
        ("http://127.0.0.1:8000", ["mediation.court.example"], {"mediation.W003", "mediation.W005"}),
        ("https://localhost", ["localhost"], {"mediation.W003"}),
        ("http://mediation.court.example", ["mediation.court.example"], {"mediation.W005"}),
        ("https://other.court.example", ["mediation.court.example"], {"mediation.W004"}),
    ],
)
def test_check_deploy_warns_of_a_site_url_links_would_fail_with(settings, site_url, hosts, expected):
    settings.SITE_URL = site_url
    settings.ALLOWED_HOSTS = hosts
    assert {warning.id for warning in check_site_url(None)} == expected


def test_the_check_is_registered_for_deploy(settings, capsys):
    settings.SITE_URL = "http://127.0.0.1:8000"
    call_command("check", "--deploy")
    assert "mediation.W003" in capsys.readouterr().err
