"""Phone first, in Chinese, from the application to the sealed agreement: a citizen
applies at /apply/ on her phone with the code she reads in a text message and tracks
her order with a new one; the judge refers it, and the case has her as plaintiff with
her verified number and ID number; the mediator invites the other side by mobile
number (and her, who must also give her ID number); the neighbour opens the link in
the invitation's text message, has a code texted and joins; once the mediator and
she have signed, the neighbour signs on her phone with a code texted to it, and the
sealed agreement's signing certificate says how sure the platform was of each signer
and how each confirmed it was them."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest
from django.db.models import F
from pypdf import PdfReader

from documents.models import Agreement, Signature
from documents.reauthentication import Reauthentication, send_signing_code
from documents.services import agreements
from mediation.models import Participant, Party, PhoneCode, User
from mediation.services import cases
from tests.e2e.browser import off_the_loop
from tests.e2e.test_apply_journey_zh import (
    ID_NUMBER,
    PHONE,
    ask_for_a_code_to_apply,
    fill_in_the_application,
    order_received,
    referred,
    track_her_request,
)
from tests.e2e.test_journeys import download_bytes, draw_signature, label, make_court, open_action, wait_until
from tests.e2e.test_party_journey_zh import lock_an_agreement, mediator_signs

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NEIGHBOUR_PHONE = "+8613900139000"


def a_minute_later() -> None:
    """A new code to a number comes no sooner than a minute after the last."""
    PhoneCode.objects.update(created_at=F("created_at") - dt.timedelta(seconds=61))


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def masked(number: str) -> str:
    return number[3:6] + "****" + number[-4:]


def joins_by_the_texted_invitation(journey, person, number: str, case, *, id_number: str = "") -> User:
    """`person` opens the link in the invitation texted to `number`, has a code texted
    there and joins the case with it (and the ID number on record, where asked)."""
    t = journey.t
    page = person.page
    invitation = journey.texted(number, "invitation")
    assert case.number in invitation
    url = re.search(re.escape(journey.base_url) + r"/invite/[^\s，。）)]+", invitation).group(0)
    person.goto(url, "invitation")
    assert page.locator("h1").inner_text() == t("Invitation to mediation")
    assert case.number in person.text()
    a_minute_later()
    person.submit(page.locator("form[data-send-code] button"), "invitation code sent")
    sent = t("A code was texted to %(phone)s. It is valid for 5 minutes.") % {"phone": masked(number)}
    assert sent in person.text()
    form = page.locator("[data-accept-form]")
    form.get_by_label(label(t("Code from the SMS"))).fill(journey.code_texted(number))
    if id_number:
        form.get_by_label(label(t("Your resident ID number"))).fill(id_number)
    else:
        assert form.locator("input[name=id_number]").count() == 0
    person.submit(form.get_by_role("button", name=t("Join the case")), "joined the case")
    assert page.url.endswith(f"/cases/{case.pk}/"), page.url
    assert t("You now take part in mediation case %(number)s.") % {"number": case.number} in person.text()
    return User.objects.get(phone=number)


def plaintiff_signs_with_a_texted_code(agreement: Agreement, user: User, party: Party, sms_outbox) -> None:
    """The applicant signs too, with the code texted to her (the test's own transport)."""
    send_signing_code(
        user, Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk), client_address=None
    )
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox[-1].body).group(1)
    agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    agreements.sign_agreement(
        agreement=agreement,
        actor=user,
        version_hash=agreement.current_version.content_hash,
        party=party,
        method="typed",
        image_png=None,
        reauthentication=Reauthentication(sms_code=code),
    )


def test_from_applying_on_a_phone_to_an_agreement_signed_with_texted_codes(journey, sms_outbox):
    journey.language = "zh-hans"
    t = journey.t
    journey.data += ["GD", "X", "+86"]
    court = off_the_loop(make_court)
    User.objects.filter(pk=court.mediator.pk).update(language="zh-hans")

    # 1. She applies on her phone with the code she reads, and tracks her order.
    citizen = journey.person("citizen", phone=True)
    code = ask_for_a_code_to_apply(journey, citizen)
    fill_in_the_application(journey, citizen, code=code, id_number=ID_NUMBER)
    citizen.submit(citizen.page.locator("[data-apply]"), "application received")
    order = order_received(journey, citizen)
    track_her_request(journey, citizen, order)

    # 2. The judge refers it: she is the plaintiff with her verified number and ID number.
    case = referred(court, order)
    plaintiff_party = Party.objects.get(case=case, side="plaintiff")
    defendant_party = Party.objects.get(case=case, side="defendant")
    assert (defendant_party.name, str(defendant_party.phone)) == ("李建国", NEIGHBOUR_PHONE)
    journey.data.append(case.number)

    # 3. The mediator invites the other side by mobile number from the case page, and
    # her: the ID number on record for her will be asked.
    mediator = journey.person("mediator")
    mediator.sign_in(court.mediator)
    mediator.goto(f"/cases/{case.pk}/", "referred case")
    for party, mobile in ((defendant_party, "139 0013 9000"), (plaintiff_party, "138 0013 8000")):
        form = open_action(mediator, t("Invite a participant"))
        form.get_by_label(label(t("For the party"))).select_option(str(party.pk))
        form.get_by_label(label(t("As"))).select_option("party")
        form.get_by_label(label(t("Mobile phone"))).fill(mobile)
        mediator.submit(form.get_by_role("button", name=t("Invite a participant")), f"{party.side} invited")
        texted = mediator.page.locator("[data-invitation-texted]").inner_text()
        assert t("The invitation was texted to %(phone)s.") % {"phone": mobile} in texted
        asks = t("Accepting it also needs the ID number on record for the party.")
        assert (asks in texted) == (party == plaintiff_party)

    # 4. The neighbour opens the link in the text message on her phone, has a code
    # texted and joins; the applicant joins as plaintiff with her ID number too.
    neighbour = journey.person("neighbour", phone=True)
    neighbour_user = joins_by_the_texted_invitation(journey, neighbour, NEIGHBOUR_PHONE, case)
    assert case.number in neighbour.page.locator("h1").inner_text()
    applicant = joins_by_the_texted_invitation(journey, citizen, PHONE, case, id_number=ID_NUMBER)
    assert applicant.full_name == "王秀英" and neighbour_user.full_name == "李建国"

    # The mediator's case page shows how sure the platform is of each of them.
    mediator.goto(f"/cases/{case.pk}/", "case with both parties joined")
    for user in (neighbour_user, applicant):
        participant = Participant.active.get(case=case, user=user)
        row = mediator.page.locator(f'[data-participant="{participant.pk}"]')
        assert row.locator("[data-identity-level]").inner_text() == t("Mobile number verified")

    # 5. The agreement: the mediator locks and signs it, the applicant signs with a
    # texted code, then the neighbour on her phone.
    off_the_loop(cases.start_mediation, case=case, actor=court.mediator)
    world = SimpleNamespace(case=case, plaintiff_party=plaintiff_party, defendant_party=defendant_party)
    agreement = off_the_loop(lock_an_agreement, world, court)
    journey.data.append(agreement.verification_code)
    off_the_loop(mediator_signs, agreement, court)
    a_minute_later()
    off_the_loop(plaintiff_signs_with_a_texted_code, agreement, applicant, plaintiff_party, sms_outbox)

    neighbour.goto(f"/agreements/{agreement.pk}/sign/", "signing page", full_page=True)
    page = neighbour.page
    confirm = page.locator("[data-sms-code]")
    assert masked(NEIGHBOUR_PHONE) in confirm.inner_text()
    assert page.locator("input[name=password]").count() == 0
    a_minute_later()
    neighbour.submit(page.locator("[data-send-code]"), "signing code sent")
    assert page.locator("[data-send-code]").inner_text() == t("Text me a code")
    sent = t("A 6-digit code was texted to %(phone)s. Type it below within 5 minutes, then sign.") % {
        "phone": masked(NEIGHBOUR_PHONE)
    }
    assert sent in neighbour.text()
    assert not Signature.objects.filter(version__agreement=agreement, signer=neighbour_user).exists()
    # The text says which case's agreement the code signs.
    assert case.number in journey.texted(NEIGHBOUR_PHONE, "signing_code")
    page.get_by_label(label(t("Code texted to your phone"))).fill(journey.code_texted(NEIGHBOUR_PHONE, "signing_code"))
    draw_signature(neighbour)
    neighbour.submit(page.locator("form[data-sign-form] button.button--primary"), "signed")
    signature = Signature.objects.get(version__agreement=agreement, signer=neighbour_user)
    assert (signature.party_id, signature.method, signature.reauthenticated_by, signature.identity_level) == (
        defendant_party.pk,
        "drawn",
        "sms",
        "mobile",
    )

    # 6. Her signature, the last, seals it; the signing certificate says how sure the
    # platform was of each signer, and how each confirmed it was them.
    wait_until(lambda: Agreement.objects.get(pk=agreement.pk).status == Agreement.Status.SEALED, timeout=60)
    neighbour.goto(f"/agreements/{agreement.pk}/", "sealed")
    with page.expect_download() as download:
        page.get_by_role("link", name=t("Signing certificate (PDF)")).click()
    certificate = download_bytes(download.value)
    text = squashed("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(certificate)).pages))
    assert ID_NUMBER not in text
    # The signers' table: from its last heading to the revisions that follow it.
    signers = text[
        text.index(squashed(t("Identity when signing"))) : text.index(squashed(t("Revisions of the signed file")))
    ]
    rows = {name: signers.index(name) for name in ("刘洋", "王秀英", "李建国")}
    assert rows["刘洋"] < rows["王秀英"] < rows["李建国"]
    mediator_row = signers[rows["刘洋"] : rows["王秀英"]]
    assert squashed(t("password")) in mediator_row and squashed(t("Account only")) in mediator_row
    for row in (signers[rows["王秀英"] : rows["李建国"]], signers[rows["李建国"] :]):
        assert squashed(t("a code texted to their verified mobile number")) in row
        assert squashed(t("Mobile number verified")) in row
