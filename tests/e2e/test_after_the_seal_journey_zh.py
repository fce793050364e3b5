"""After the seal, on phones, in Chinese: both parties apply for judicial confirmation
of their sealed agreement and sign the application (the plaintiff's agent with a code
texted to her phone); the judge finds it in the queue, accepts it under its own 民特
number, reopens the joint room and questions them there, records the review, drafts a
confirming ruling and signs it; the ruling arrives and is served on the parties, who
acknowledge it; the defendant reports the first of three instalments paid with a
transfer receipt, the plaintiff confirms it; the second instalment falls overdue (the
test moves the due dates back and runs the sweep), the mediator records urging the
defendant, and the plaintiff makes and downloads the application for enforcement,
a PDF whose seal validates and which carries the ruling.

The settlement itself (drafting, signing, sealing) is what earlier journeys prove: it
is made here through the services."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from PIL import Image, ImageDraw
from pypdf import PdfReader

from documents.models import (
    Agreement,
    CourtDocument,
    Document,
    JudicialConfirmation,
    Obligation,
    ObligationStep,
    Service,
)
from documents.reauthentication import Reauthentication
from documents.services import agreements, serving
from documents.services.agreement_content import instalment_terms
from documents.verification import verify_pdf
from mediation import phones
from mediation.models import User
from rooms.models import RoomKind
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import (
    download_bytes,
    draw_signature,
    make_case_with_parties,
    make_court,
    open_action,
    pdf_text,
    rooms_of,
    send_by_tapping,
    wait_for_message,
)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLAINTIFF_PHONE = "+8613700137000"
TOTAL = "300000"
INSTALMENTS = 3
QUESTION = "请双方确认：本调解协议是否出于自愿？是否存在损害第三人利益的情形？"
ANSWER = "我方确认系自愿达成，不存在损害他人利益的情形。"
# The text message a code to sign the application comes in.
SIGNING_CODE = "signing_code_confirmation_application"
URGING = "已电话联系被告法定代表人赵强，其承诺本周五前支付第二期款项。"


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def receipt_png() -> bytes:
    """A photo of a bank's transfer receipt, as a phone would upload it."""
    image = Image.new("RGB", (600, 360), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 580, 340), outline=(180, 30, 30), width=4)
    for row in range(6):
        draw.line((60, 80 + 40 * row, 540, 80 + 40 * row), fill=(60, 60, 60), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def settled_in_instalments(court):
    """A case settled by a sealed agreement: the defendant pays the plaintiff 300,000
    yuan in three monthly instalments, the first due in ten days, and the parties
    agreed to apply for judicial confirmation; both consented to electronic service.
    The plaintiff's agent then verifies her mobile number (she signs with texted codes
    from then on)."""
    world = make_case_with_parties(court, tag="-after-seal")
    case = world.case
    for user in (world.plaintiff, world.defendant):
        serving.record_consent(case=case, user=user)
    terms = instalment_terms(
        obligor=world.defendant_party.pk,
        obligee=world.plaintiff_party.pk,
        total=TOTAL,
        count=INSTALMENTS,
        first_due=timezone.localdate() + dt.timedelta(days=10),
        method="银行转账",
    )
    agreement = agreements.start_agreement(case=case, actor=court.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=court.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费三十万元。经调解，双方自愿达成如下协议。",
        terms=terms,
        costs="调解不收费。",
        effectiveness="各方签名并由平台加盖时间戳后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=court.mediator)
    for signer, party, password in (
        (court.mediator, None, PASSWORD),
        (world.plaintiff, world.plaintiff_party, world.passwords["plaintiff"]),
        (world.defendant, world.defendant_party, world.passwords["defendant"]),
    ):
        agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
        agreements.sign_agreement(
            agreement=agreement,
            actor=signer,
            version_hash=agreement.current_version.content_hash,
            party=party,
            method="typed",
            image_png=None,
            reauthentication=Reauthentication(password=password),
            ip="127.0.0.1",
        )
    User.objects.filter(pk=world.plaintiff.pk).update(phone=PLAINTIFF_PHONE, phone_verified_at=timezone.now())
    User.objects.filter(pk__in=[world.plaintiff.pk, world.defendant.pk, court.judge.pk, court.mediator.pk]).update(
        language="zh-hans"
    )
    return world, Agreement.objects.get(pk=agreement.pk)


def time_travel_past_the_second_instalment(agreement) -> None:
    """Weeks pass: the schedule and what was done under it move back in time, so that
    the second instalment fell due three days ago unpaid (the first was paid before
    it was due, the third is still to come); then the nightly sweep runs."""
    second = Obligation.objects.get(agreement=agreement, instalment=2)
    back = dt.timedelta(days=(second.due_date - timezone.localdate()).days + 3)
    obligations = Obligation.objects.filter(agreement=agreement)
    obligations.update(due_date=F("due_date") - back)
    obligations.filter(performed_on__isnull=False).update(
        performed_on=F("performed_on") - back,
        reported_at=F("reported_at") - back,
        confirmed_at=F("confirmed_at") - back,
    )
    ObligationStep.objects.filter(obligation__agreement=agreement).update(at=F("at") - back)
    call_command("follow_up_agreements")


def obligation_card(person, obligation):
    return person.page.locator(f'[data-obligation="{obligation.pk}"]')


def unfolded(card, summary: str):
    """The action of an obligation's card whose summary reads `summary`, opened."""
    action = card.locator("details.action").filter(
        has=card.page.locator("summary", has_text=re.compile(f"^{re.escape(summary)}$"))
    )
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    return action


def test_after_the_seal_confirmation_performance_and_enforcement_on_phones(journey):
    journey.language = "zh-hans"
    t = journey.t
    court = off_the_loop(make_court)
    world, agreement = off_the_loop(settled_in_instalments, court)
    case = world.case
    # Data shown as it is: the agreement's code, and the names the platform's
    # certificates carry (configuration, not interface text).
    journey.data += [
        agreement.verification_code,
        settings.PKI_ORGANISATION,
        settings.PKI_AUTHORITY_NAME + " TSA",
        settings.PKI_AUTHORITY_NAME,
    ]
    obligations = list(Obligation.objects.filter(agreement=agreement).order_by("due_date"))
    assert [(o.instalment, o.instalments, o.status) for o in obligations] == [
        (n, INSTALMENTS, Obligation.Status.DUE) for n in (1, 2, 3)
    ]
    first, second, _third = obligations

    plaintiff = journey.person("plaintiff", phone=True)
    defendant = journey.person("defendant", phone=True)
    judge = journey.person("judge")
    mediator = journey.person("mediator")
    plaintiff.sign_in(world.plaintiff)
    defendant.sign_in(world.defendant)
    judge.sign_in(court.judge)
    mediator.sign_in(court.mediator)

    # 1. The plaintiff's agent opens the case: 30 days are left to apply; she applies.
    plaintiff.goto(f"/cases/{case.pk}/", "settled case with time to apply")
    panel = plaintiff.page.locator("[data-confirmation-panel]")
    assert panel.locator("h2").inner_text() == t("Judicial confirmation")
    assert panel.locator("[data-days-left]").get_attribute("data-days-left") == "30"
    plaintiff.submit(panel.locator("[data-apply-form] button[type=submit]"))
    confirmation = JudicialConfirmation.objects.get(case=case)
    assert confirmation.status == JudicialConfirmation.Status.PREPARING
    application = confirmation.application
    journey.data.append(application.verification_code)
    plaintiff.check("application started")

    # 2. She signs the application on her phone with the code texted to her.
    panel = plaintiff.page.locator("[data-confirmation-panel]")
    plaintiff.submit(panel.locator("[data-sign-application]"), "application to sign", full_page=True)
    page = plaintiff.page
    assert page.locator("h1").inner_text() == t("Application for judicial confirmation")
    assert page.locator("[data-sms-code]").is_visible() and page.locator("input[name=password]").count() == 0
    plaintiff.submit(page.locator("[data-send-code]"), "signing code sent")
    sent = t("A 6-digit code was texted to %(phone)s. Type it below within 5 minutes, then sign.")
    assert sent % {"phone": phones.mask(PLAINTIFF_PHONE)} in plaintiff.text()
    texted = journey.texted(PLAINTIFF_PHONE, SIGNING_CODE)
    assert case.number in texted
    page.locator("input[name=sms_code]").fill(journey.code_texted(PLAINTIFF_PHONE, SIGNING_CODE))
    draw_signature(plaintiff)
    plaintiff.submit(page.locator("form[data-sign-form] button.button--primary"), "application signed")
    assert t("You signed. The document is sealed once everyone has signed.") in plaintiff.text()
    signature = application.signatures.get(signer=world.plaintiff)
    assert (signature.method, signature.reauthenticated_by) == ("drawn", "sms")

    # 3. The defendant signs it on his phone, from his to-do list, with his password:
    # the application is with the court.
    defendant.goto(f"/cases/{case.pk}/", "application to sign on the to-do list")
    with defendant.page.expect_navigation():
        defendant.page.locator('[data-task="confirmation.sign"] a').click()
    defendant.check("application to sign", full_page=True)
    sign_form = defendant.page.locator("form[data-sign-form]")
    draw_signature(defendant)
    sign_form.locator("input[name=password]").fill(world.passwords["defendant"])
    defendant.submit(sign_form.locator("button[type=submit]"), "application signed and sealed")
    assert t("You signed. Everyone has signed: the document is sealed.") in defendant.text()
    confirmation.refresh_from_db()
    assert confirmation.status == JudicialConfirmation.Status.APPLIED
    assert CourtDocument.objects.get(pk=application.pk).status == CourtDocument.Status.SEALED

    # 4. The judge finds it in the queue and accepts it: it has its own 民特 number.
    judge.goto("/confirmations/", "confirmation queue")
    row = judge.page.locator(f'[data-confirmation="{confirmation.pk}"]')
    assert case.number in row.inner_text()
    assert t("Not yet accepted") in row.inner_text()
    judge.submit(row.get_by_role("link", name=t("Not yet accepted")), "application")
    judge.submit(judge.page.locator('[data-action="accept"]'), "accepted")
    confirmation.refresh_from_db()
    number = confirmation.case_number
    year = timezone.localdate().year
    assert re.fullmatch(rf"\({year}\){re.escape(settings.COURT_CODE)}民特\d+号", number), number
    assert judge.page.locator("h1").inner_text() == number
    assert t("Accepted as %(number)s.") % {"number": number} in judge.text()
    journey.data.append(number)

    # 5. The judge reopens the joint room and questions the parties there; the
    # plaintiff's agent answers on her phone.
    judge.submit(judge.page.locator('[data-action="review_in_room"]'), "room reopened for the review")
    assert t("The joint room is open again for your questions.") in judge.text()
    joint = rooms_of(case)[RoomKind.JOINT]
    judge.goto(f"/rooms/{joint.pk}/", "joint room reopened")
    send_by_tapping(judge, QUESTION)
    wait_for_message(judge.page, QUESTION)
    plaintiff.goto(f"/rooms/{joint.pk}/", "joint room")
    wait_for_message(plaintiff.page, QUESTION)
    send_by_tapping(plaintiff, ANSWER)
    wait_for_message(plaintiff.page, ANSWER)
    plaintiff.check("the judge's question and her answer")
    wait_for_message(judge.page, ANSWER)
    judge.check("the answer")

    # 6. The judge records the review, drafts a confirming ruling and signs it.
    judge.goto(f"/confirmations/{confirmation.pk}/", "application accepted")
    review = open_action(judge, t("Record a review"))
    review.locator("select[name=kind]").select_option("room")
    review.locator("input[name=held_at]").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    review.locator("textarea[name=note]").fill("在共同调解室询问双方，双方均确认协议系自愿达成，不损害第三人利益。")
    judge.submit(review.locator("button[type=submit]"), "review recorded")
    assert t("The review is recorded.") in judge.text()
    assert "双方均确认协议系自愿达成" in judge.page.locator("[data-review]").first.inner_text()
    ruling_form = open_action(judge, t("Draft the ruling"))
    ruling_form.locator("select[name=decision]").select_option("confirm")
    ruling_form.locator("textarea[name=note]").fill("经审查，双方达成的调解协议符合法律规定，依法予以确认。")
    judge.submit(ruling_form.locator("button[type=submit]"))
    confirmation.refresh_from_db()
    ruling = confirmation.ruling
    # Its verification code is data, shown as it is.
    journey.data.append(ruling.verification_code)
    judge.check("ruling to sign", full_page=True)
    assert judge.page.url.endswith(f"/court-documents/{ruling.pk}/")
    sign_form = judge.page.locator("form[data-sign-form]")
    sign_form.locator("input[name=method][value=typed]").check()
    sign_form.locator("input[name=password]").fill(PASSWORD)
    judge.submit(sign_form.locator("button.button--primary"), "ruling signed and sealed")
    assert t("You signed. Everyone has signed: the document is sealed.") in judge.text()
    confirmation.refresh_from_db()
    assert confirmation.status == JudicialConfirmation.Status.CONFIRMED

    # 7. The ruling arrives: the parties are told, the case shows it, and each
    # acknowledges its service.
    for person, user in ((plaintiff, world.plaintiff), (defendant, world.defendant)):
        person.goto("/notifications/", "the ruling arrived")
        arrived = t("The court's ruling on your application for judicial confirmation in case %(number)s has arrived.")
        assert arrived % {"number": case.number} in person.text()
        person.goto(f"/cases/{case.pk}/", "case with the ruling")
        court_panel = person.page.locator("[data-court-confirmation]")
        assert court_panel.get_attribute("data-court-confirmation") == "confirmed"
        assert number in court_panel.inner_text()
        assert ruling.verification_code in court_panel.inner_text()
        if person is plaintiff:
            with person.page.expect_download() as download:
                court_panel.locator("[data-ruling-pdf]").click()
            ruling_pdf = download_bytes(download.value)
            assert hashlib.sha256(ruling_pdf).hexdigest() == CourtDocument.objects.get(pk=ruling.pk).sealed_blob_id
            ruling_text = squashed(pdf_text(ruling_pdf))
            assert "民事裁定书" in ruling_text and number in ruling_text
        service = Service.objects.get(case=case, recipient=user, documents__kind=Document.Kind.RULING)
        with person.page.expect_navigation():
            person.page.locator('[data-task="acknowledge"] a').click()
        person.check("ruling served")
        person.submit(
            person.page.locator(f'form[action="/services/{service.pk}/acknowledge/"] button'), "ruling acknowledged"
        )
        assert Service.objects.get(pk=service.pk).status == Service.Status.ACKNOWLEDGED

    # 8. The defendant reports the first instalment paid, with the transfer receipt.
    defendant.goto(f"/cases/{case.pk}/", "case before paying")
    defendant.submit(defendant.page.locator("[data-performance-link]"), "performance page")
    card = obligation_card(defendant, first)
    assert t("Instalment %(n)s of %(of)s") % {"n": 1, "of": INSTALMENTS} in card.locator("h2").inner_text()
    report = unfolded(card, t("Report it performed"))
    report.locator("input[type=date]").fill(timezone.localdate().isoformat())
    report.locator("input[type=file]").set_input_files(
        files=[{"name": "转账回单.png", "mimeType": "image/png", "buffer": receipt_png()}]
    )
    report.locator("textarea").fill("已通过银行转账支付第一期款项。")
    defendant.submit(report.locator("button[type=submit]"), "first instalment reported")
    assert t("Your report is recorded; the other side is asked to confirm it.") in defendant.text()
    assert Obligation.objects.get(pk=first.pk).status == Obligation.Status.REPORTED
    assert obligation_card(defendant, first).locator("[data-evidence]").count() == 1

    # 9. The plaintiff's agent sees the receipt and confirms the payment.
    plaintiff.goto(f"/cases/{case.pk}/performance/", "first instalment to confirm")
    card = obligation_card(plaintiff, first)
    assert card.get_attribute("data-status") == "reported"
    # Nothing is overdue yet: no enforcement to apply for.
    assert plaintiff.page.locator("[data-enforcement-link]").count() == 0
    assert card.locator("[data-evidence]").count() == 1
    plaintiff.submit(card.get_by_role("button", name=t("Confirm it is performed")), "first instalment confirmed")
    assert t("Confirm that it is performed? This is final.") in journey.dialogs
    assert t("You confirmed that it is performed.") in plaintiff.text()
    assert obligation_card(plaintiff, first).get_attribute("data-status") == "performed"
    assert Obligation.objects.get(pk=first.pk).status == Obligation.Status.PERFORMED

    # 10. Weeks later the second instalment is overdue: the mediator is told, and
    # records urging the defendant.
    off_the_loop(time_travel_past_the_second_instalment, agreement)
    assert Obligation.objects.get(pk=second.pk).status == Obligation.Status.OVERDUE
    overdue_notice = t(
        "Case %(number)s: term %(term)s of the agreement, due on %(due)s, is overdue: urge performance and "
        "record what you did."
    ) % {"number": case.number, "term": second.term_number, "due": Obligation.objects.get(pk=second.pk).due_date}
    mediator.goto("/notifications/", "told the instalment is overdue")
    assert overdue_notice in mediator.text()
    with mediator.page.expect_navigation():
        mediator.page.locator("main form button").filter(has_text=overdue_notice).first.click()
    assert mediator.page.url.endswith(f"/cases/{case.pk}/performance/")
    mediator.check("second instalment overdue")
    card = obligation_card(mediator, second)
    assert card.get_attribute("data-status") == "overdue"
    assert card.locator("[data-days-overdue]").get_attribute("data-days-overdue") == "3"
    # Enforcement is the obligee's to apply for, not the mediator's.
    assert mediator.page.locator("[data-enforcement-link]").count() == 0
    urge = unfolded(card, t("Urge performance"))
    urge.locator("textarea").fill(URGING)
    mediator.submit(urge.locator("button[type=submit]"), "urging recorded")
    assert ObligationStep.objects.filter(obligation=second, step=ObligationStep.Step.URGED, note=URGING).exists()
    assert URGING in obligation_card(mediator, second).locator("[data-steps]").inner_text()
    # The defendant reads it on his performance page (and is offered no enforcement).
    defendant.goto(f"/cases/{case.pk}/performance/", "his second instalment overdue and urged")
    assert obligation_card(defendant, second).get_attribute("data-status") == "overdue"
    assert URGING in obligation_card(defendant, second).locator("[data-steps]").inner_text()
    assert defendant.page.locator("[data-enforcement-link]").count() == 0

    # 11. The plaintiff's agent applies for enforcement and downloads the package: a
    # PDF sealed by the platform, valid at /verify/, carrying the sealed ruling.
    plaintiff.goto(f"/cases/{case.pk}/performance/", "performance with an overdue instalment")
    plaintiff.submit(plaintiff.page.locator("[data-enforcement-link]"), "enforcement page")
    assert number in plaintiff.page.locator("main").inner_text()
    attachments = plaintiff.page.locator("[data-attachments] [data-attachment]")
    assert "ruling" in attachments.evaluate_all("items => items.map(item => item.dataset.attachment)")
    with plaintiff.page.expect_download() as download:
        plaintiff.page.locator("[data-apply-for-enforcement]").click()
    package = download_bytes(download.value)
    made = CourtDocument.objects.get(case=case, kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION)
    assert hashlib.sha256(package).hexdigest() == made.sealed_blob_id
    journey.data.append(made.verification_code)
    assert package.startswith(b"%PDF-")
    # Checked as /verify/ checks it (off the browser's event loop: pyHanko runs its own).
    report = off_the_loop(verify_pdf, package)
    assert report.matches_sealed_original and report.all_valid, report.as_json()
    embedded = PdfReader(io.BytesIO(package)).attachments
    ruling_files = [name for name in embedded if "ruling" in name]
    assert ruling_files, sorted(embedded)
    sealed_ruling = CourtDocument.objects.get(pk=ruling.pk).sealed_blob_id
    assert hashlib.sha256(embedded[ruling_files[0]][0]).hexdigest() == sealed_ruling
    assert number in squashed("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(package)).pages))

    # Anyone can check the package at /verify/.
    plaintiff.goto("/verify/", "verify the package")
    plaintiff.page.locator("input[name=file]").set_input_files(
        files=[{"name": "强制执行申请书.pdf", "mimeType": "application/pdf", "buffer": package}]
    )
    plaintiff.submit(plaintiff.page.locator("main form button[type=submit]"), "package verified")
    assert plaintiff.page.locator('[data-verification-result] [data-result="original"]').is_visible()
    assert plaintiff.page.locator("[data-signatures]").get_attribute("data-signatures") == "valid"
