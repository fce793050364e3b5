"""An agent (a lawyer) signs the settlement agreement only with special authority to
settle (特别授权): a power of attorney uploaded by them (or the mediator for them),
checked by the case's mediator, whose recorded scope covers settling and signing,
and that has not expired. The refusals first, on every face of signing (the service,
the signing page, the agreement's page, the API, the to-do list); then who may see
and check a power of attorney; then the agent who has one signs."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from documents.agreement_rules import NoAuthorityToSign
from documents.models import PowerOfAttorney, Signature
from documents.next_step import next_step
from documents.services import agreements
from documents.services.powers_of_attorney import (
    accept_power_of_attorney,
    reject_power_of_attorney,
    submit_power_of_attorney,
)
from documents.todo import party_tasks
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, MediationCase, Notification
from mediation.services import cases
from tests.cases import grant_special_authority, make_case, power_of_attorney_pdf
from tests.documents.test_agreements import draft, fresh, sign
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REASON = "The power of attorney lacks the company seal."


@pytest.fixture
def world(people):
    """The plaintiff's agent has no power of attorney yet."""
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def agent(world):
    return world.plaintiff_participant


@pytest.fixture
def agreement(world):
    """Locked and signed by the mediator: it is the parties' turn."""
    agreement = draft(world)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    sign(agreement, world.mediator)
    return fresh(agreement)


def submit(agent, *, actor=None, data=None, filename="授权委托书.pdf") -> PowerOfAttorney:
    return submit_power_of_attorney(
        participant=agent, actor=actor or agent.user, data=data or power_of_attorney_pdf(), filename=filename
    )


def accept(power, mediator, *, settle=True, sign_agreement=True, claims=True, valid_until=None) -> PowerOfAttorney:
    return accept_power_of_attorney(
        power=power,
        actor=mediator,
        may_change_claims=claims,
        may_settle=settle,
        may_sign_agreement=sign_agreement,
        valid_until=valid_until,
    )


def plaintiff_party(world):
    return world.plaintiff_participant.party


def refusal_code(world, agreement) -> str:
    with pytest.raises(NoAuthorityToSign) as refused:
        sign(agreement, world.plaintiff, plaintiff_party(world))
    assert not Signature.objects.filter(version=agreement.current_version, signer=world.plaintiff).exists()
    return refused.value.code


def sign_on_the_page(client, world, agreement):
    client.force_login(world.plaintiff)
    return client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "party": plaintiff_party(world).pk,
            "method": "typed",
            "password": PASSWORD,
        },
    )


# The states of an agent's authority that do not let them sign, each as the agent is
# told it. `expired` is a power of attorney accepted until a day that has since passed.
def no_power(world, agent):
    pass


def unchecked(world, agent):
    submit(agent)


def without_settling(world, agent):
    accept(submit(agent), world.mediator, settle=False)


def without_signing(world, agent):
    accept(submit(agent), world.mediator, sign_agreement=False)


def rejected(world, agent):
    reject_power_of_attorney(power=submit(agent), actor=world.mediator, reason=REASON)


def expired(world, agent):
    power = accept(submit(agent), world.mediator, valid_until=timezone.localdate())
    # Days pass: the last day it was valid is yesterday.
    PowerOfAttorney.objects.filter(pk=power.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))


WITHOUT_AUTHORITY = [
    (no_power, "no_power_of_attorney", "Upload it first"),
    (unchecked, "power_of_attorney_unchecked", "has not been checked yet"),
    (without_settling, "power_of_attorney_scope", "does not give you authority to settle"),
    (without_signing, "power_of_attorney_scope", "does not give you authority to settle"),
    (rejected, "power_of_attorney_rejected", "rejected your power of attorney"),
    (expired, "power_of_attorney_expired", "expired on"),
]
TASKS = {
    "no_power_of_attorney": "power_of_attorney.upload",
    "power_of_attorney_unchecked": "waiting.power_of_attorney",
    "power_of_attorney_scope": "power_of_attorney.scope",
    "power_of_attorney_rejected": "power_of_attorney.rejected",
    "power_of_attorney_expired": "power_of_attorney.expired",
}


# Refused: an agent without special authority signs nothing, on any face --------------------


@pytest.mark.parametrize(
    "state, code, words", WITHOUT_AUTHORITY, ids=[state.__name__ for state, _code, _words in WITHOUT_AUTHORITY]
)
def test_an_agent_without_special_authority_cannot_sign(client, world, agent, agreement, state, code, words):
    state(world, agent)

    # The service refuses, and nothing is signed.
    assert refusal_code(world, agreement) == code

    # The signing page says why and offers no form; posting to it signs nothing.
    client.force_login(world.plaintiff)
    page = client.get(reverse("agreement_sign", args=[agreement.pk]))
    assert page.status_code == 200
    assert f'data-authority-refusal="{code}"' in page.content.decode()
    assert words in page.content.decode()
    assert "data-sign-form" not in page.content.decode()
    posted = sign_on_the_page(client, world, agreement)
    assert posted.status_code == 400
    assert not Signature.objects.filter(signer=world.plaintiff).exists()

    # The agreement's page has no sign button, and the reason.
    detail = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert "data-sign-link" not in detail
    assert f'data-authority-refusal="{code}"' in detail

    # The API: not theirs to sign, and why.
    answer = client.get(reverse("api_my_case", args=[world.case.pk])).json()
    signing = answer["agreements"][0]["signing"]
    assert signing["may_sign"] is False
    assert [refusal["code"] for refusal in signing["refusals"]] == [code]

    # The to-do list: what to do about the power of attorney, not "sign".
    tasks = [task.code for task in party_tasks(MediationCase.objects.get(pk=world.case.pk), world.plaintiff)]
    assert TASKS[code] in tasks
    assert "sign" not in tasks


def test_the_mediator_sees_which_agent_cannot_sign_yet(client, world, agent, agreement):
    unchecked(world, agent)
    client.force_login(world.mediator)
    page = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert f'data-agent-without-authority="{agent.pk}"' in page
    accept(PowerOfAttorney.objects.get(participant=agent), world.mediator)
    page = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert "data-agent-without-authority" not in page


def test_an_agent_without_authority_is_not_told_it_is_their_turn(world, agent, people):
    agreement = draft(world)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    sign(agreement, world.mediator)
    told = set(Notification.objects.filter(kind="agreement.your_turn").values_list("recipient", flat=True))
    assert told == {world.defendant.pk}


def test_the_party_in_person_signs_without_a_power_of_attorney(world, agreement):
    party_in_person = UserFactory(full_name="孙丽")
    cases.attach_participant(
        case=world.case, party=plaintiff_party(world), user=party_in_person, role="party", actor=world.mediator
    )
    signature = sign(agreement, party_in_person, plaintiff_party(world))
    assert signature.role == "party"


# Refused: uploading and checking ------------------------------------------------------------


def test_only_the_agent_and_the_mediator_upload_an_agents_power_of_attorney(world, agent, people):
    for someone in (world.defendant, world.judge, people["liaison"]):
        with pytest.raises(ActionForbidden):
            submit(agent, actor=someone)
    assert not PowerOfAttorney.objects.exists()
    # The defendant's legal representative acts under no power of attorney.
    with pytest.raises(ActionForbidden):
        submit(world.defendant_participant)


def test_a_power_of_attorney_is_a_pdf_or_an_image(client, world, agent):
    client.force_login(world.plaintiff)
    cases_of_bad_files = [
        ("授权委托书.pdf", b"not a pdf at all"),
        ("授权委托书.exe", power_of_attorney_pdf()),
        ("授权委托书.pdf", b""),
    ]
    for name, data in cases_of_bad_files:
        response = client.post(
            reverse("power_of_attorney_upload", args=[world.case.pk]), {"file": SimpleUploadedFile(name, data)}
        )
        assert response.status_code == 400
    assert not PowerOfAttorney.objects.exists()


def test_a_word_file_is_refused_as_a_power_of_attorney(world, agent):
    from tests.documents.test_uploads import docx_file

    with pytest.raises(ValidationError) as refused:
        submit(agent, data=docx_file(), filename="授权委托书.docx")
    assert "PDF or a photo" in str(refused.value)
    assert not PowerOfAttorney.objects.exists()


def test_only_the_cases_mediator_checks_a_power_of_attorney(client, world, agent):
    power = submit(agent)
    for someone in (world.plaintiff, world.judge, world.defendant):
        with pytest.raises(ActionForbidden):
            accept(power, someone)
        with pytest.raises(ActionForbidden):
            reject_power_of_attorney(power=power, actor=someone, reason=REASON)
    # On the pages: the judge sees it but may not check it; the defendant does not see it.
    for someone, status in ((world.judge, 403), (world.plaintiff, 403), (world.defendant, 404)):
        client.force_login(someone)
        response = client.post(
            reverse("power_of_attorney_check", args=[power.pk, "accept"]),
            {"may_settle": "on", "may_sign_agreement": "on"},
        )
        assert response.status_code == status
    assert PowerOfAttorney.objects.get(pk=power.pk).status == PowerOfAttorney.Status.SUBMITTED


def test_a_mediator_of_another_case_cannot_check_it(client, world, agent, filing):
    from mediation.roles import Role
    from tests.factories import staff

    stranger = staff(Role.MEDIATOR, filing, full_name="Sun Li")
    power = submit(agent)
    with pytest.raises(ActionForbidden):
        accept(power, stranger)
    client.force_login(stranger)
    assert client.get(reverse("power_of_attorney_detail", args=[power.pk])).status_code == 404
    assert client.get(reverse("power_of_attorney_file", args=[power.pk])).status_code == 404
    assert client.post(reverse("power_of_attorney_check", args=[power.pk, "accept"])).status_code == 404


def test_a_checked_power_of_attorney_is_not_checked_again(world, agent):
    power = accept(submit(agent), world.mediator)
    with pytest.raises(TransitionNotAllowed):
        reject_power_of_attorney(power=power, actor=world.mediator, reason=REASON)
    with pytest.raises(TransitionNotAllowed):
        accept(power, world.mediator, settle=False)
    assert PowerOfAttorney.objects.get(pk=power.pk).may_settle is True


def test_rejecting_needs_a_reason_and_accepting_a_day_not_passed(client, world, agent):
    power = submit(agent)
    with pytest.raises(ValidationError):
        reject_power_of_attorney(power=power, actor=world.mediator, reason="  ")
    with pytest.raises(ValidationError):
        accept(power, world.mediator, valid_until=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(world.mediator)
    response = client.post(reverse("power_of_attorney_check", args=[power.pk, "reject"]), {"reason": ""})
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    assert PowerOfAttorney.objects.get(pk=power.pk).status == PowerOfAttorney.Status.SUBMITTED


# Who sees it: the agent's side and the court, never the other side ----------------------------


def test_the_other_side_never_sees_an_agents_power_of_attorney(client, world, agent, people):
    power = submit(agent, filename="王律师授权委托书.pdf")
    reject_power_of_attorney(power=power, actor=world.mediator, reason=REASON)
    other_party = make_case(people["mediator"], None, label="B").plaintiff
    for outsider in (world.defendant, other_party):
        client.force_login(outsider)
        assert client.get(reverse("power_of_attorney_detail", args=[power.pk])).status_code == 404
        assert client.get(reverse("power_of_attorney_file", args=[power.pk])).status_code == 404
    client.force_login(world.defendant)
    listed = client.get(reverse("powers_of_attorney", args=[world.case.pk])).content.decode()
    assert "王律师授权委托书" not in listed
    answer = client.get(reverse("api_my_case", args=[world.case.pk])).json()
    assert answer["powers_of_attorney"] == []
    assert REASON not in str(answer)

    # Its own side and the court read it, and why it was rejected.
    for reader in (world.plaintiff, world.mediator, world.judge):
        client.force_login(reader)
        page = client.get(reverse("power_of_attorney_detail", args=[power.pk]))
        assert page.status_code == 200 and REASON in page.content.decode()
        assert "王律师授权委托书" in client.get(reverse("powers_of_attorney", args=[world.case.pk])).content.decode()
        download = client.get(reverse("power_of_attorney_file", args=[power.pk]))
        assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_the_audit_trail_names_rows_not_reasons(world, agent):
    power = submit(agent)
    reject_power_of_attorney(power=power, actor=world.mediator, reason=REASON)
    entries = AuditEntry.objects.filter(action__startswith="power_of_attorney.").order_by("pk")
    assert [entry.action for entry in entries] == ["power_of_attorney.submit", "power_of_attorney.reject"]
    for entry in entries:
        assert entry.target_id == str(power.pk)
        assert entry.data["participant"] == agent.pk
        assert REASON not in str(entry.data)
        assert str(world.plaintiff) not in str(entry.data)


# The agent with special authority signs ------------------------------------------------------


def test_the_agent_uploads_the_mediator_checks_and_the_agent_signs(client, world, agent, agreement):
    # The agent uploads it on the page; the mediator is told to check it.
    client.force_login(world.plaintiff)
    uploaded = client.post(
        reverse("power_of_attorney_upload", args=[world.case.pk]),
        {"file": SimpleUploadedFile("授权委托书.pdf", power_of_attorney_pdf())},
    )
    assert uploaded.status_code == 302
    power = PowerOfAttorney.objects.get(participant=agent)
    assert power.uploaded_by == world.plaintiff and power.status == PowerOfAttorney.Status.SUBMITTED
    assert Notification.objects.filter(recipient=world.mediator, kind="power_of_attorney.submitted").exists()
    assert next_step(MediationCase.objects.get(pk=world.case.pk), world.mediator).code == "check_power_of_attorney"

    # The mediator reads it and records its scope and validity.
    client.force_login(world.mediator)
    page = client.get(reverse("power_of_attorney_detail", args=[power.pk])).content.decode()
    assert "Record as checked" in page
    valid_until = timezone.localdate() + dt.timedelta(days=90)
    checked = client.post(
        reverse("power_of_attorney_check", args=[power.pk, "accept"]),
        {"may_change_claims": "on", "may_settle": "on", "may_sign_agreement": "on", "valid_until": valid_until},
    )
    assert checked.status_code == 302
    power.refresh_from_db()
    assert power.status == PowerOfAttorney.Status.ACCEPTED
    assert (power.may_change_claims, power.may_settle, power.may_sign_agreement) == (True, True, True)
    assert power.valid_until == valid_until and power.checked_by == world.mediator
    assert Notification.objects.filter(recipient=world.plaintiff, kind="power_of_attorney.accepted").exists()

    # Now it is theirs to sign: the to-do list, the API and the page say so, and they sign.
    tasks = [task.code for task in party_tasks(MediationCase.objects.get(pk=world.case.pk), world.plaintiff)]
    assert "sign" in tasks and not any(code.startswith(("power_of_attorney", "waiting.power")) for code in tasks)
    client.force_login(world.plaintiff)
    assert client.get(reverse("api_my_case", args=[world.case.pk])).json()["agreements"][0]["signing"] == {
        "may_sign": True,
        "refusals": [],
    }
    assert "data-sign-link" in client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert sign_on_the_page(client, world, agreement).status_code == 302
    signature = Signature.objects.get(signer=world.plaintiff)
    assert signature.role == "agent"
    # The record says under which power of attorney the agent signed.
    entry = AuditEntry.objects.filter(action="agreement.sign", actor_id=world.plaintiff.pk).get()
    assert entry.data["power_of_attorney"] == power.pk


def test_the_mediator_uploads_for_the_agent_and_the_builder_grants_authority(world, agent, agreement):
    power = submit(agent, actor=world.mediator)
    assert power.uploaded_by == world.mediator
    assert not Notification.objects.filter(kind="power_of_attorney.submitted").exists()
    accept(power, world.mediator)
    assert sign(agreement, world.plaintiff, plaintiff_party(world)).role == "agent"


def test_a_new_power_of_attorney_after_a_rejection_gives_authority_once_checked(world, agent, agreement):
    rejected(world, agent)
    assert refusal_code(world, agreement) == "power_of_attorney_rejected"
    grant_special_authority(agent)
    assert sign(agreement, world.plaintiff, plaintiff_party(world)).role == "agent"
