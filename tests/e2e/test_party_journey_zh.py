"""The defendant's journey on a phone, in Chinese: her to-do list tells her to consent
to electronic service and then to acknowledge what was served, and changes as she
does each; once the mediator has signed the agreement she is told it is her turn,
opens the signing page from that notice, reads the terms there, and signs, a wrong
password first leaving her drawn signature on the canvas."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from documents.models import Agreement, Document, Service, ServiceConsent, Signature
from documents.reauthentication import Reauthentication
from documents.services import agreements, serving
from documents.services.uploads import upload_document
from mediation.models import Notification, User
from mediation.services import sessions
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import complaint_pdf, draw_signature, make_case_with_parties, make_court
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def tasks_shown(person) -> list[str]:
    return person.page.locator("[data-todo] [data-task]").evaluate_all("items => items.map(item => item.dataset.task)")


def serve_the_complaint(world, court, tmp_path) -> Service:
    path = tmp_path / "起诉状.pdf"
    complaint_pdf(path)
    document = upload_document(
        case=world.case,
        actor=court.mediator,
        data=path.read_bytes(),
        filename="起诉状.pdf",
        title="起诉状",
        kind=Document.Kind.COMPLAINT,
    )
    return serving.serve_electronically(
        case=world.case, actor=court.mediator, recipient=world.defendant, documents=[document]
    )


def lock_an_agreement(world, court) -> Agreement:
    agreement = agreements.start_agreement(case=world.case, actor=court.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=court.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费五十万元。",
        terms=[
            {
                "kind": "payment",
                "obligor": world.defendant_party.pk,
                "obligee": world.plaintiff_party.pk,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签名后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=court.mediator)
    return Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)


def mediator_signs(agreement: Agreement, court) -> None:
    agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    agreements.sign_agreement(
        agreement=agreement,
        actor=court.mediator,
        version_hash=agreement.current_version.content_hash,
        party=None,
        method="typed",
        image_png=None,
        reauthentication=Reauthentication(password=PASSWORD),
    )


def test_the_defendant_follows_her_to_do_list_and_signs_when_told_on_a_phone(journey, tmp_path):
    journey.language = "zh-hans"
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-todo")
    case = world.case
    User.objects.filter(pk=world.defendant.pk).update(language="zh-hans")
    off_the_loop(
        sessions.schedule_session,
        case=case,
        actor=court.mediator,
        starts_at=timezone.now() + dt.timedelta(days=3),
    )
    defendant = journey.person("defendant", phone=True)
    defendant.sign_in(world.defendant)

    # "My cases" counts what she has to do and names the first thing.
    defendant.goto("/my-cases/", "my cases")
    summary = defendant.page.locator("[data-todo-summary]")
    assert summary.locator("[data-todo-count]").get_attribute("data-todo-count") == "2"
    assert t("Agree to receive the documents of this case electronically.") in summary.inner_text()

    # Her case page lists it: consent first, then the session and how to join it.
    defendant.goto(f"/cases/{case.pk}/", "case with to-do list")
    assert tasks_shown(defendant) == ["consent", "session"]
    joint = case.rooms.get(kind="joint")
    assert defendant.page.locator('[data-task="session"] a').get_attribute("href") == f"/rooms/{joint.pk}/"

    # She follows the first task and consents; the list no longer asks it.
    with defendant.page.expect_navigation():
        defendant.page.locator('[data-task="consent"] a').click()
    defendant.check("consent form")
    consent = defendant.page.locator(f'form[action="/cases/{case.pk}/consent/"]')
    consent.locator("input[name=agree]").check()
    defendant.submit(consent.locator("button[type=submit]"), "consent recorded")
    assert ServiceConsent.objects.filter(case=case, user=world.defendant).exists()
    defendant.goto(f"/cases/{case.pk}/", "to-do after consent")
    assert tasks_shown(defendant) == ["session"]

    # The complaint is served: she is asked to acknowledge it by its deadline, does so,
    # and the task goes.
    service = off_the_loop(serve_the_complaint, world, court, tmp_path)
    defendant.goto(f"/cases/{case.pk}/", "to-do with a service")
    assert tasks_shown(defendant) == ["acknowledge", "session"]
    deadline = timezone.localtime(Service.objects.get(pk=service.pk).acknowledge_by).strftime("%Y-%m-%d %H:%M")
    assert deadline in defendant.page.locator('[data-task="acknowledge"]').inner_text()
    with defendant.page.expect_navigation():
        defendant.page.locator('[data-task="acknowledge"] a').click()
    defendant.check("service")
    defendant.submit(
        defendant.page.locator(f'form[action="/services/{service.pk}/acknowledge/"] button'), "acknowledged"
    )
    assert Service.objects.get(pk=service.pk).status == Service.Status.ACKNOWLEDGED
    defendant.goto(f"/cases/{case.pk}/", "to-do after acknowledging")
    assert tasks_shown(defendant) == ["session"]

    # The agreement is locked: she reads that the mediator signs first.
    agreement = off_the_loop(lock_an_agreement, world, court)
    # Its verification code is data, shown as it is.
    journey.data.append(agreement.verification_code)
    defendant.goto(f"/cases/{case.pk}/", "to-do waiting for the mediator")
    assert tasks_shown(defendant) == ["session", "waiting.mediator_signs"]
    assert not Notification.objects.filter(recipient=world.defendant, kind="agreement.your_turn").exists()

    # The mediator signs; she is told it is her turn, and signs from that notice.
    off_the_loop(mediator_signs, agreement, court)
    # On the narrowest phones still common the list and the signing page fit too.
    plaintiff = journey.person("plaintiff", phone=True, width=360)
    plaintiff.sign_in(world.plaintiff)
    plaintiff.goto("/my-cases/", "my cases at 360 px")
    plaintiff.goto(f"/cases/{case.pk}/", "to-do at 360 px")
    assert "sign" in tasks_shown(plaintiff)
    plaintiff.goto(f"/agreements/{agreement.pk}/sign/", "sign page at 360 px", full_page=True)

    defendant.goto("/notifications/", "your turn to sign")
    notice = t("It is your turn to sign the settlement agreement of case %(number)s: open it to sign.") % {
        "number": case.number
    }
    assert notice in defendant.text()
    with defendant.page.expect_navigation():
        defendant.page.locator("main form button").filter(has_text=notice).first.click()
    assert defendant.page.url.endswith(f"/agreements/{agreement.pk}/sign/")
    defendant.check("sign page from the notice", full_page=True)
    reading = defendant.page.locator("[data-agreement-reading]")
    assert "北京云图科技有限公司于2026年12月31日前向上海星河文化传媒有限公司支付人民币500,000.00元" in (
        reading.locator("[data-terms]").inner_text().replace(" ", "")
    )
    assert reading.locator('[data-download="current"]').is_visible()

    # A wrong password: nothing is signed, and her drawing is still on the canvas.
    sign_form = defendant.page.locator("form[data-sign-form]")
    draw_signature(defendant)
    sign_form.locator("input[name=password]").fill("not-her-password")
    defendant.submit(sign_form.locator("button[type=submit]"), "wrong password")
    assert t("Your password is not right. Nothing was signed.") in defendant.text()
    assert not Signature.objects.filter(version__agreement=agreement, signer=world.defendant).exists()
    defendant.page.wait_for_function(
        "() => { const c = document.querySelector('[data-signature-pad] canvas');"
        " const blank = document.createElement('canvas'); blank.width = c.width; blank.height = c.height;"
        " return c.toDataURL() !== blank.toDataURL(); }"
    )

    # The right password signs with that drawing, and the page says what comes next.
    sign_form = defendant.page.locator("form[data-sign-form]")
    sign_form.locator("input[name=password]").fill(world.passwords["defendant"])
    defendant.submit(sign_form.locator("button[type=submit]"), "signed")
    assert Signature.objects.filter(
        version__agreement=agreement, signer=world.defendant, party=world.defendant_party, method="drawn"
    ).exists()
    assert world.plaintiff_party.name in defendant.page.locator(".messages .message").first.inner_text()
    defendant.goto(f"/cases/{case.pk}/", "to-do after signing")
    assert tasks_shown(defendant) == ["session", "waiting.signers"]
