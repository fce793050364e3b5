"""Every journey of the platform in a real browser (Debian's Chromium through
Playwright) against a real daphne process: several people at once, each in their own
browser context, parties on a phone-sized screen. Every page visited is screenshotted
under var/e2e/ and checked with axe-core; no request may leave 127.0.0.1; in Chinese no
English word may show beyond names and data.

Each journey starts from the state the previous one leads to, built in the test
process through the services (so each test runs alone), and then the people do their
part in the browser."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from pypdf import PdfReader, PdfWriter

from documents.models import Agreement, Document, PowerOfAttorney, Service, ServiceConsent, ServiceStep, Signature
from documents.reauthentication import Reauthentication
from documents.services import agreements
from mediation.models import Department, MediationCase, Participant, Party, RoomKind, User, WorkOrder
from mediation.roles import Role
from mediation.services import cases
from mediation.services import work_orders as order_services
from rooms.models import Room, RoomEntry
from tests.cases import grant_special_authority
from tests.e2e.browser import CuttableLink, off_the_loop
from tests.factories import PASSWORD, DepartmentFactory, UserFactory, WorkOrderFactory, staff
from tests.languages import english_words

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass
class Court:
    filing: Department
    civil: Department
    liaison: User
    dept_liaison: User
    head: User
    judge: User
    mediator: User


def make_court() -> Court:
    filing = DepartmentFactory(name="立案庭/诉讼服务中心", code="filing")
    civil = DepartmentFactory(name="民二庭", code="civil-2")
    return Court(
        filing=filing,
        civil=civil,
        liaison=staff(Role.GENERAL_LIAISON, filing, full_name="李静", email="liaison@court.test"),
        dept_liaison=staff(Role.DEPARTMENT_LIAISON, civil, full_name="赵敏", email="dept.liaison@court.test"),
        head=staff(Role.DEPARTMENT_HEAD, civil, full_name="陈刚", email="head@court.test"),
        judge=staff(Role.JUDGE, civil, full_name="张伟", email="judge@court.test"),
        mediator=staff(Role.MEDIATOR, filing, full_name="刘洋", email="mediator@court.test"),
    )


def label(text: str) -> re.Pattern:
    """A field's label as Django renders it (with its colon)."""
    return re.compile("^" + re.escape(text) + "[:：]?$")


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("waited in vain")
        time.sleep(0.1)


def download_bytes(download) -> bytes:
    with open(download.path(), "rb") as file:
        return file.read()


def unread_badge(person) -> int:
    text = person.page.locator(".nav-notifications [data-notification-count]").first.inner_text()
    return int(re.sub(r"\D", "", text) or 0)


# -- 1. intake and dispatch ---------------------------------------------------------------


def test_intake_and_dispatch(journey):
    court = make_court()
    liaison = journey.person("liaison")
    judge = journey.person("judge")
    head = journey.person("head")

    head.sign_in(court.head)
    head.goto("/notifications/", "notifications before")
    head.page.evaluate("window.__stayed = true")
    before = unread_badge(head)

    # The liaison records a call to the 12368 hotline.
    liaison.login(court.liaison.email, PASSWORD)
    liaison.goto("/desk/", "desk", tour="en-01-desk")
    liaison.goto("/desk/new/", "intake form")
    form = liaison.page.locator("main form")
    form.get_by_label(label("Channel")).select_option("hotline")
    form.get_by_label(label("Category")).select_option("urge")
    form.get_by_label(label("Request")).fill(
        "上海星河文化传媒有限公司来电：北京云图科技有限公司拖欠视频制作费五十万元，公司急需支付员工工资，请求法院督促。"
    )
    form.get_by_label(label("Related case number")).fill("(2026)京0107民初123号")
    form.get_by_label(label("Requester's name")).fill("王芳")
    form.get_by_label(label("Requester's phone")).fill("13800138000")
    liaison.check("intake form filled", tour="en-02-intake", axe=False)
    liaison.submit(form.get_by_role("button", name="Record the order"), "order recorded")
    number = liaison.page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"GD-\d{4}-\d+", number), number
    order = WorkOrder.objects.get(number=number)
    assert order.channel == "hotline" and order.status == WorkOrder.Status.RECEIVED

    # ... and dispatches it to the second civil division and its judge.
    dispatch = liaison.page.locator("details.action", has=liaison.page.get_by_text("Dispatch", exact=True))
    dispatch.locator("summary").click()
    dispatch.get_by_label(label("Department")).select_option(label=court.civil.name)
    dispatch.get_by_label(label("Judge (optional)")).select_option(label=str(court.judge))
    dispatch.get_by_label(label("Note")).fill("请民二庭在时限内联系来电人。")
    liaison.check("dispatch form")
    liaison.submit(dispatch.get_by_role("button", name="Dispatch"), "order dispatched", tour="en-03-order")
    assert WorkOrder.objects.get(pk=order.pk).status == WorkOrder.Status.DISPATCHED

    # The department head's count rises on the open page, without reloading it.
    head.page.wait_for_function(
        "n => parseInt(document.querySelector('.nav-notifications [data-notification-count]')"
        ".textContent.replace(/\\D/g, '')) > n",
        arg=before,
    )
    assert head.page.evaluate("window.__stayed === true"), "the head's page was reloaded"
    head.check("notification count rose")

    # The judge finds it in "my orders" with its deadline as time left.
    judge.sign_in(court.judge)
    judge.goto("/desk/mine/", "my orders", tour="en-04-my-orders")
    row = judge.page.locator("table.orders tbody tr", has=judge.page.get_by_text(number))
    assert row.count() == 1
    # Both clocks: the first contact's (hours) and the completion's (days).
    first_contact = row.locator(".clock", has_text="First contact").locator(".deadline")
    assert re.search(r"\d+\s+\w+ left", first_contact.inner_text()), first_contact.inner_text()
    deadline = row.locator(".clock", has_text="Completion").locator(".deadline")
    assert re.search(r"\d+\s+\w+ left", deadline.inner_text()), deadline.inner_text()
    assert "deadline--ok" in (deadline.get_attribute("class") or "")
    due = timezone.localtime(WorkOrder.objects.get(pk=order.pk).completion_due)
    assert due.strftime("%Y-%m-%d %H:%M") in deadline.inner_text()
    judge.page.get_by_role("link", name=number).click()
    judge.check("order as the judge sees it")
    assert "Take up the order" in judge.text()


def open_action(person, summary: str):
    """Open the action form whose summary reads `summary` and return it."""
    page = person.page
    action = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{re.escape(summary)}$"))
    )
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    return action


# -- 2. referral and joining by invitation ----------------------------------------------


def test_referral_and_joining_by_invitation(journey):
    court = make_court()
    order = WorkOrderFactory(
        channel="wechat",
        category="urge",
        requester_name="王芳",
        content="上海星河文化传媒有限公司：北京云图科技有限公司拖欠视频制作费五十万元，请求督促。",
    )
    order_services.dispatch_work_order(order=order, actor=court.liaison, department=court.civil, assignee=court.judge)
    judge = journey.person("judge")
    mediator = journey.person("mediator")

    # The judge refers the order to pre-litigation mediation.
    judge.login(court.judge.email, PASSWORD)
    judge.goto(f"/orders/{order.number}/", "order")
    refer = open_action(judge, "Refer to mediation")
    refer.get_by_label(label("Mediator")).select_option(str(court.mediator.pk))
    refer.get_by_label(label("Cause of action")).fill("合同纠纷")
    refer.get_by_label(label("Claim amount (yuan)")).fill("500000")
    judge.check("referral form")
    judge.submit(refer.get_by_role("button", name="Refer to mediation"), "referred")
    case = MediationCase.objects.get(work_order=order)
    assert case.mediator == court.mediator
    assert case.number in judge.text()

    # The mediator adds the parties and invites the plaintiff's agent and the defendant.
    mediator.login(court.mediator.email, PASSWORD)
    mediator.goto("/cases/", "case list")
    mediator.page.get_by_role("link", name=case.number).click()
    mediator.check("new case")
    for side, name, representative in (
        ("plaintiff", "上海星河文化传媒有限公司", "孙丽"),
        ("defendant", "北京云图科技有限公司", "赵强"),
    ):
        form = open_action(mediator, "Add a party")
        form.get_by_label(label("Side")).select_option(side)
        form.get_by_label(label("Kind")).select_option("organisation")
        form.get_by_label(label("Name")).fill(name)
        form.get_by_label(label("Legal representative (an organisation)")).fill(representative)
        mediator.submit(form.get_by_role("button", name="Add a party"), f"{side} added")
    links = {}
    for party, role, full_name, mobile in (
        ("上海星河文化传媒有限公司", "agent", "王律师", "138 0013 8001"),
        ("北京云图科技有限公司", "legal_representative", "赵强", "138 0013 8002"),
    ):
        form = open_action(mediator, "Invite a participant")
        form.get_by_label(label("For the party")).select_option(label=party)
        form.get_by_label(label("As")).select_option(role)
        form.get_by_label(label("Name of the person")).fill(full_name)
        form.get_by_label(label("Mobile phone")).fill(mobile)
        mediator.submit(form.get_by_role("button", name="Invite a participant"), f"{role} invited", tour=None)
        # Texted, so nobody copies links by hand; the link stays as a fallback.
        assert f"The invitation was texted to {mobile}." in mediator.text()
        link = mediator.page.locator("[data-invitation-link]")
        assert link.get_attribute("readonly") is not None
        # A copy button (the script shows it) and the link as a QR code, for a phone to scan.
        assert mediator.page.get_by_role("button", name="Copy the link").is_visible()
        assert mediator.page.locator("[data-invitation-qr] svg").is_visible()
        # Served where SITE_URL says: no warning.
        assert mediator.page.locator("[data-site-url-mismatch]").count() == 0
        links[full_name] = (link.input_value(), "+86" + mobile.replace(" ", ""))
    mediator.check("invitation link shown", tour="en-05-invitation-link", axe=False)
    assert all(url.startswith(journey.base_url + "/invite/") for url, _number in links.values())

    # Each reads the invitation in an SMS, follows its link on the phone, has a code
    # texted to that number and joins the case with it: a new account, its number verified.
    for full_name, (url, number) in links.items():
        [invitation_sms] = journey.texts(number, "invitation")
        assert url in invitation_sms["body"] and case.number in invitation_sms["body"]
        phone = journey.person(f"phone {full_name}", phone=True)
        phone.goto(url, "invitation", tour="en-06-phone-invitation" if full_name == "王律师" else None)
        assert case.number in phone.text()
        # Who invites, on which side, and the court's number to check it is genuine.
        assert settings.COURT_NAME in phone.text()
        assert ("Plaintiff" if full_name == "王律师" else "Defendant") in phone.text()
        assert phone.page.locator("[data-check-genuine] a[href^='tel:']").is_visible()
        masked = number[3:6] + "****" + number[-4:]
        phone.submit(phone.page.get_by_role("button", name=f"Text a code to {masked}"), "code sent")
        assert f"A code was texted to {masked}." in phone.text()
        assert len(journey.texts(number, "verification_code")) == 1
        code = journey.code_texted(number)
        form = phone.page.locator("[data-accept-form]")
        form.get_by_label(label("Code from the SMS")).fill(code)
        phone.check("code filled", tour="en-07-phone-sign-up" if full_name == "王律师" else None, axe=False)
        phone.submit(form.get_by_role("button", name="Join the case"), "landed in the case", tour=None)
        assert phone.page.url.endswith(f"/cases/{case.pk}/"), phone.page.url
        assert case.number in phone.page.locator("h1").inner_text()
        user = User.objects.get(phone=number)
        assert (user.full_name, user.identity_level) == (full_name, "mobile")
        assert Participant.active.filter(case=case, user=user).exists()
    assert Participant.active.filter(case=case).count() == 2


# -- a case with both sides joined, the state journey 2 leads to --------------------------


@dataclass
class CaseParties:
    case: MediationCase
    plaintiff_party: Party
    defendant_party: Party
    plaintiff: User
    defendant: User
    passwords: dict


@transaction.atomic
def make_case_with_parties(court: Court, case: MediationCase | None = None, *, tag: str = "") -> CaseParties:
    case = case or cases.open_mediation_case(
        actor=court.mediator,
        cause_of_action="合同纠纷",
        claim_amount=Decimal("500000"),
        judge=court.judge,
        facts="原告为被告制作宣传视频，被告至今未支付制作费五十万元。",
    )
    plaintiff_party = cases.add_party(
        case=case,
        actor=court.mediator,
        side="plaintiff",
        kind="organisation",
        name="上海星河文化传媒有限公司",
        legal_representative="孙丽",
    )
    defendant_party = cases.add_party(
        case=case,
        actor=court.mediator,
        side="defendant",
        kind="organisation",
        name="北京云图科技有限公司",
        legal_representative="赵强",
    )
    passwords = {"plaintiff": "Quiet-river-2026", "defendant": "Calm-lake-2026"}
    plaintiff = UserFactory(full_name="王律师", email=f"agent{tag}@plaintiff.test", password=passwords["plaintiff"])
    defendant = UserFactory(full_name="赵强", email=f"zhao.qiang{tag}@defendant.test", password=passwords["defendant"])
    agent = cases.attach_participant(
        case=case, party=plaintiff_party, user=plaintiff, role="agent", actor=court.mediator
    )
    # The agent signs for the plaintiff later: with special authority to settle.
    grant_special_authority(agent)
    cases.attach_participant(
        case=case, party=defendant_party, user=defendant, role="legal_representative", actor=court.mediator
    )
    cases.start_mediation(case=case, actor=court.mediator)
    return CaseParties(
        case=MediationCase.objects.get(pk=case.pk),
        plaintiff_party=plaintiff_party,
        defendant_party=defendant_party,
        plaintiff=plaintiff,
        defendant=defendant,
        passwords=passwords,
    )


def rooms_of(case: MediationCase) -> dict[str, Room]:
    return {room.kind: room for room in Room.objects.filter(case=case)}


# -- 3. mediation in the rooms -------------------------------------------------------------


def shown_bodies(person, page=None) -> list[str]:
    """The messages a room page shows, in order, stored ones only."""
    page = page or person.page
    return page.locator("[data-messages] li.entry-message[data-seq] .entry-message__body").all_inner_texts()


def wait_for_message(page, body: str) -> None:
    page.locator("[data-messages] li.entry-message[data-seq]", has_text=body).first.wait_for()


def wait_online(page, *users: User) -> None:
    for user in users:
        page.locator(f'[data-members] [data-member="{user.pk}"].is-online').wait_for()


def send_by_tapping(person, body: str, page=None) -> None:
    page = page or person.page
    page.locator("#composer-body").fill(body)
    page.locator("[data-composer] button[type=submit]").click()


def send_by_keyboard(person, body: str, page=None) -> None:
    """Tab from the top of the page to the composer, type, press Enter."""
    page = page or person.page
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _press in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id === 'composer-body'"):
            break
    else:
        pytest.fail(f"{person.label}: the composer cannot be reached with the Tab key")
    page.keyboard.type(body)
    page.keyboard.press("Enter")


def mediation_in_rooms(journey, *, language: str, court: Court | None = None) -> None:
    t = journey.t
    tour = "zh" if language.startswith("zh") else "en"
    court = court or off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-rooms")
    rooms = rooms_of(world.case)
    joint, plaintiff_caucus, defendant_caucus = (
        rooms[RoomKind.JOINT],
        rooms[RoomKind.CAUCUS_PLAINTIFF],
        rooms[RoomKind.CAUCUS_DEFENDANT],
    )
    link = CuttableLink(journey.server.port)
    try:
        mediator = journey.person("mediator")
        plaintiff = journey.person("plaintiff", phone=True)
        defendant = journey.person("defendant", phone=True, base_url=link.url)
        mediator.sign_in(court.mediator)
        plaintiff.sign_in(world.plaintiff)
        defendant.sign_in(world.defendant)
        if language != "en":
            mediator.goto("/cases/", "case list")
            mediator.switch_language(language)
            assert User.objects.get(pk=court.mediator.pk).language == language

        # All three in the joint room see each other arrive.
        mediator.goto(f"/rooms/{joint.pk}/", "joint room")
        plaintiff.goto("/my-cases/", "my cases")
        with plaintiff.page.expect_navigation():
            plaintiff.page.locator(f'a[href="/rooms/{joint.pk}/"]').first.click()
        defendant.goto(f"/cases/{world.case.pk}/", "case page")
        with defendant.page.expect_navigation():
            defendant.page.locator(f'.room-links a[href="/rooms/{joint.pk}/"]').click()
        everyone = (court.mediator, world.plaintiff, world.defendant)
        for person in (mediator, plaintiff, defendant):
            wait_online(person.page, *everyone)
        plaintiff.check("joint room")
        defendant.check("joint room")

        # They talk; each sees the others' messages live. The mediator uses the keyboard.
        opening = "各位好，今天我们先听听双方的意见。"
        send_by_keyboard(mediator, opening)
        claim = "被告至今未付五十万元制作费，我方员工工资已经拖欠两个月。"
        send_by_tapping(plaintiff, claim)
        defendant.page.locator("#composer-body").fill("我方")
        mediator.page.locator("[data-typing]", has_text=str(world.defendant)).wait_for()
        answer = "我方资金周转困难，希望分期支付。"
        send_by_tapping(defendant, answer)
        for person in (mediator, plaintiff, defendant):
            wait_for_message(person.page, answer)
            assert shown_bodies(person)[-3:] == [opening, claim, answer]
        mediator.check("joint room conversation", tour=f"{tour}-08-joint-room")
        plaintiff.check("joint room conversation", tour=f"{tour}-09-phone-joint-room")

        # The mediator talks to each side alone in its caucus.
        caucus_page = mediator.context.new_page()
        caucus_page.goto(f"/rooms/{plaintiff_caucus.pk}/")
        with plaintiff.page.expect_navigation():
            plaintiff.page.locator(f'[data-room-tab="{plaintiff_caucus.pk}"]').click()
        wait_online(caucus_page, world.plaintiff)
        private_to_plaintiff = "背对背：如果对方分三期付清，贵方能否接受？"
        send_by_keyboard(mediator, private_to_plaintiff, page=caucus_page)
        wait_for_message(plaintiff.page, private_to_plaintiff)
        plaintiff_reply = "可以接受分期，但第一期不少于二十万元。"
        send_by_tapping(plaintiff, plaintiff_reply)
        wait_for_message(caucus_page, plaintiff_reply)
        mediator.check("plaintiff caucus", page=caucus_page, tour=f"{tour}-10-caucus")
        plaintiff.check("plaintiff caucus")
        with plaintiff.page.expect_navigation():
            plaintiff.page.locator(f'[data-room-tab="{joint.pk}"]').click()

        # The defendant's pages show no trace of the plaintiff caucus.
        for page_path in ("/my-cases/", f"/cases/{world.case.pk}/", f"/rooms/{joint.pk}/"):
            defendant.goto(page_path, f"no plaintiff caucus on {page_path}")
            html = defendant.page.content()
            assert f"/rooms/{plaintiff_caucus.pk}/" not in html
            assert f'data-room-tab="{plaintiff_caucus.pk}"' not in html
            assert t("Plaintiff caucus") not in defendant.text()
            assert private_to_plaintiff not in html and plaintiff_reply not in html
            if page_path.startswith("/rooms/"):
                tabs = defendant.page.locator("[data-room-tab]").all()
                assert sorted(int(tab.get_attribute("data-room-tab")) for tab in tabs) == sorted(
                    [joint.pk, defendant_caucus.pk]
                )
        refused = defendant.context.request.get(f"/rooms/{plaintiff_caucus.pk}/")
        assert refused.status == 404

        caucus_page.goto(f"/rooms/{defendant_caucus.pk}/")
        with defendant.page.expect_navigation():
            defendant.page.locator(f'[data-room-tab="{defendant_caucus.pk}"]').click()
        wait_online(caucus_page, world.defendant)
        private_to_defendant = "背对背：三期付清，第一期二十万元，贵方能做到吗？"
        send_by_keyboard(mediator, private_to_defendant, page=caucus_page)
        wait_for_message(defendant.page, private_to_defendant)
        defendant_reply = "可以，第一期下月底前支付。"
        send_by_tapping(defendant, defendant_reply)
        wait_for_message(caucus_page, defendant_reply)
        defendant.check("defendant caucus", tour=f"{tour}-11-phone-caucus")
        assert private_to_plaintiff not in defendant.page.content()
        caucus_page.close()

        # Back in the joint room, the defendant's phone loses the network while the
        # others talk, and the defendant writes a message while offline.
        with defendant.page.expect_navigation():
            defendant.page.locator(f'[data-room-tab="{joint.pk}"]').click()
        wait_online(defendant.page, *everyone)
        wait_online(mediator.page, world.defendant)
        before = shown_bodies(defendant)
        link.cut()
        defendant.context.set_offline(True)
        defendant.page.locator("[data-offline-banner]").wait_for(state="visible")
        mediator.page.locator(f'[data-members] [data-member="{world.defendant.pk}"]:not(.is-online)').wait_for()
        missed = [
            "调解员：被告方同意分三期支付，第一期二十万元。",
            "原告：我方同意，请写入协议。",
            "调解员：好的，我来起草调解协议。",
        ]
        send_by_keyboard(mediator, missed[0])
        wait_for_message(plaintiff.page, missed[0])
        send_by_tapping(plaintiff, missed[1])
        wait_for_message(mediator.page, missed[1])
        send_by_keyboard(mediator, missed[2])
        wait_for_message(plaintiff.page, missed[2])
        written_offline = "网络好像断了，我方同意上述安排。"
        send_by_tapping(defendant, written_offline)
        defendant.page.locator("[data-messages] li[data-pending]", has_text=written_offline).wait_for()
        defendant.check("offline", tour=f"{tour}-12-phone-offline")
        assert all(body not in defendant.text() for body in missed)

        # The network returns: the missed messages appear once, in order, and the
        # message written offline is delivered once.
        link.restore()
        defendant.context.set_offline(False)
        wait_for_message(defendant.page, written_offline)
        defendant.page.locator("[data-messages] li[data-pending]").wait_for(state="detached")
        defendant.page.locator("[data-offline-banner]").wait_for(state="hidden")
        for page in (mediator.page, plaintiff.page):
            wait_for_message(page, written_offline)
        defendant.page.wait_for_timeout(1000)  # time enough for a duplicate to show
        shown = shown_bodies(defendant)
        assert shown == [*before, *missed, written_offline], shown
        for person in (mediator, plaintiff):
            assert shown_bodies(person).count(written_offline) == 1
            assert shown_bodies(person)[-4:] == [*missed, written_offline]
        stored = RoomEntry.objects.filter(room=joint, kind="message").order_by("seq")
        assert [entry.body for entry in stored][-4:] == [*missed, written_offline]
        assert stored.filter(body=written_offline).count() == 1
        seqs = list(RoomEntry.objects.filter(room=joint).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        defendant.check("back online")
        mediator.check("after the defendant returned")
    finally:
        link.close()


def test_mediation_in_joint_room_and_caucuses(journey):
    mediation_in_rooms(journey, language="en")


# -- 4. service of the complaint -------------------------------------------------------------


def complaint_pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "起诉状"})
    with open(path, "wb") as file:
        writer.write(file)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_service_of_the_complaint(journey, tmp_path):
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court)
    case = world.case
    mediator = journey.person("mediator")
    defendant = journey.person("defendant", phone=True)
    mediator.sign_in(court.mediator)
    defendant.sign_in(world.defendant)

    # The defendant consents to electronic service (Civil Procedure Law art. 90).
    defendant.goto(f"/cases/{case.pk}/documents/", "documents before consent", tour="en-13-phone-consent")
    consent = defendant.page.locator(f'form[action="/cases/{case.pk}/consent/"]')
    consent.locator("input[name=agree]").check()
    defendant.submit(consent.locator("button[type=submit]"), "consent recorded")
    assert ServiceConsent.objects.filter(case=case, user=world.defendant).exists()

    # The mediator uploads the complaint (a progress bar shows) and serves it.
    mediator.goto(f"/cases/{case.pk}/documents/", "documents")
    complaint = tmp_path / "起诉状.pdf"
    complaint_pdf(complaint)
    upload = mediator.page.locator("form[data-upload]")
    upload.locator("input[name=file]").set_input_files(complaint)
    upload.locator("select[name=kind]").select_option("complaint")
    upload.locator("input[name=title]").fill("起诉状")
    upload.locator("select[name=visibility]").select_option("case")
    with mediator.page.expect_navigation():
        upload.locator("button[type=submit]").click()
    mediator.check("complaint uploaded")
    document = Document.objects.get(case=case, kind="complaint")
    serve = mediator.page.locator(f'form[action="/cases/{case.pk}/services/new/"]')
    serve.locator("select[name=recipient]").select_option(
        value=str(Participant.active.get(case=case, user=world.defendant).pk)
    )
    serve.locator(f'input[name=documents][value="{document.pk}"]').check()
    serve.locator("select[name=method]").select_option("electronic")
    mediator.check("serve form", tour="en-14-serve", axe=False)
    mediator.submit(serve.locator("button[type=submit]"), "served")
    assert any("Serve these documents now?" in message for message in journey.dialogs)
    service = Service.objects.get(case=case)
    assert mediator.page.url.endswith(f"/services/{service.pk}/")

    # The defendant is told, opens the complaint and acknowledges receipt.
    defendant.goto("/notifications/", "notifications")
    with defendant.page.expect_navigation():
        defendant.page.locator("main form button, main a").filter(has_text=case.number).first.click()
    if f"/services/{service.pk}/" not in defendant.page.url:
        defendant.goto(f"/services/{service.pk}/", "service")
    else:
        defendant.check("service")
    opened = defendant.page.locator(f'a[href="/documents/{document.pk}/"]').first
    with defendant.context.expect_event("page") as popup:
        opened.click()
    popup.value.close()
    wait_until(lambda: Service.objects.get(pk=service.pk).status == Service.Status.OPENED)
    defendant.goto(f"/services/{service.pk}/", "service opened")
    defendant.submit(
        defendant.page.locator(f'form[action="/services/{service.pk}/acknowledge/"] button'),
        "acknowledged",
        tour="en-15-phone-acknowledged",
    )
    assert Service.objects.get(pk=service.pk).status == Service.Status.ACKNOWLEDGED

    # The proof of service downloads and lists every step.
    mediator.goto(f"/services/{service.pk}/", "service steps", tour="en-16-service-steps")
    shown_steps = mediator.page.locator("[data-service-steps] li").evaluate_all(
        "items => items.map(item => item.dataset.step)"
    )
    assert shown_steps == ["prepared", "sent", "delivered", "opened", "acknowledged"]
    with mediator.page.expect_download() as download:
        mediator.page.locator("[data-proof-link]").click()
    proof = download_bytes(download.value)
    assert proof.startswith(b"%PDF-")
    text = pdf_text(proof)
    with translation.override(settings.DOCUMENT_LANGUAGE):
        labels = [step.get_step_display() for step in ServiceStep.objects.filter(service=service)]
    assert len(labels) == 5
    for step_label in labels:
        assert step_label in text, (step_label, text)
    assert case.number in text and "起诉状" in text and document.blob_id in text.replace("\n", "")


# -- 5. settlement: draft, lock, sign on phones, seal, verify ------------------------------


def draw_signature(person) -> None:
    """Sign on the canvas with a finger: touch events through the DevTools protocol."""
    page = person.page
    canvas = page.locator("[data-signature-pad] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 200, f"the signature canvas is too small on a phone: {box}"
    session = person.context.new_cdp_session(page)
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.70), (0.20, 0.30), (0.30, 0.70), (0.40, 0.35), (0.50, 0.65)],
        [(0.55, 0.40), (0.70, 0.60), (0.85, 0.30), (0.92, 0.55)],
    ]
    for stroke in strokes:
        points = [{"x": x0 + fx * w, "y": y0 + fy * h} for fx, fy in stroke]
        session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
        for start, end in itertools.pairwise(points):
            for step in range(1, 6):
                point = {
                    "x": start["x"] + (end["x"] - start["x"]) * step / 5,
                    "y": start["y"] + (end["y"] - start["y"]) * step / 5,
                }
                session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()
    assert not page.evaluate(
        "() => { const c = document.querySelector('[data-signature-pad] canvas');"
        " return c.toDataURL() === document.createElement('canvas').toDataURL(); }"
    )


def sign_with_keyboard_typed_name(person, password: str) -> None:
    """Choose "type my name" instead of drawing, enter the password and sign, all
    from the keyboard."""
    page = person.page
    page.locator("body").focus()
    for _press in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name === 'method'"):
            break
    else:
        pytest.fail("the signature method cannot be reached with the Tab key")
    page.keyboard.press("ArrowDown")
    assert page.locator("input[name=method][value=typed]").is_checked()
    assert page.locator("[data-signature-pad]").is_hidden()
    assert page.locator("[data-typed-hint]").is_visible()
    for _press in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name === 'password'"):
            break
    else:
        pytest.fail("the password cannot be reached with the Tab key")
    page.keyboard.type(password)
    person.check("typed name and password")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def modified_copy(pdf: bytes) -> bytes:
    """The sealed PDF with one character of its first page's text changed, inside the
    signed byte ranges, the file still readable."""
    for old, new in ((b"WeasyPrint", b"WeasyPrinT"), (b"/Producer", b"/Producex")):
        at = pdf.find(old)
        if at != -1:
            return pdf[:at] + new + pdf[at + len(old) :]
    middle = len(pdf) // 3
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]


def settlement(journey, *, language: str, court: Court | None = None) -> bytes:
    t = journey.t
    tour = "zh" if language.startswith("zh") else "en"
    court = court or off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-settlement")
    case = world.case
    mediator = journey.person("mediator")
    plaintiff = journey.person("plaintiff", phone=True)
    defendant = journey.person("defendant", phone=True)
    mediator.sign_in(court.mediator)
    if language != "en":
        mediator.goto("/cases/", "case list")
        mediator.switch_language(language)

    # The mediator drafts the agreement from structured terms and locks it.
    mediator.goto(f"/cases/{case.pk}/documents/", "documents")
    mediator.submit(mediator.page.locator(f'form[action="/cases/{case.pk}/agreement/"] button'), "draft form")
    form = mediator.page.locator("main form")
    form.locator("textarea[name=facts]").fill(
        "原告为被告制作宣传视频，被告未支付制作费五十万元。经调解，双方自愿达成如下协议。"
    )
    form.locator("select[name=terms-0-kind]").select_option("payment")
    form.locator("select[name=terms-0-obligor]").select_option(str(world.defendant_party.pk))
    form.locator("select[name=terms-0-obligee]").select_option(str(world.plaintiff_party.pk))
    form.locator("input[name=terms-0-amount]").fill("500000")
    form.locator("input[name=terms-0-method]").fill("银行转账")
    form.locator("input[name=terms-0-due_date]").fill("2026-12-31")
    mediator.check("draft filled", tour=f"{tour}-17-draft", axe=False)
    mediator.submit(form.locator("button[type=submit]"))
    agreement = Agreement.objects.get(case=case)
    # Shown from the draft on; letters only about one time in thirty.
    journey.data.append(agreement.verification_code)
    mediator.check("draft saved")
    mediator.submit(mediator.page.locator(f'form[action="/agreements/{agreement.pk}/lock/"] button'), "locked")
    assert Agreement.objects.get(pk=agreement.pk).status == Agreement.Status.LOCKED
    assert (
        t("Lock this version for signing? Its content can then only change by making a new version.") in journey.dialogs
    )

    # The mediator signs first, choosing to type the name, all by keyboard.
    mediator.submit(mediator.page.locator("[data-sign-link]"), "sign page")
    sign_with_keyboard_typed_name(mediator, PASSWORD)
    mediator.check("signed by the mediator")
    assert Agreement.objects.get(pk=agreement.pk).status == Agreement.Status.SIGNING

    # Each party signs on the phone by drawing, after entering the password again.
    for person, user, password, party in (
        (plaintiff, world.plaintiff, world.passwords["plaintiff"], world.plaintiff_party),
        (defendant, world.defendant, world.passwords["defendant"], world.defendant_party),
    ):
        if person is plaintiff:
            person.login(user.email, password, next_path=f"/agreements/{agreement.pk}/")
            person.check("agreement to sign")
        else:
            person.sign_in(user)
            person.goto(f"/agreements/{agreement.pk}/", "agreement to sign")
        person.submit(person.page.locator("[data-sign-link]"), "sign page")
        sign_form = person.page.locator("form[data-sign-form]")
        assert sign_form.locator("select[name=party]").input_value() == str(party.pk)
        assert sign_form.locator("input[name=method][value=drawn]").is_checked()
        draw_signature(person)
        sign_form.locator("input[name=password]").fill(password)
        person.check("drawn and password", tour=f"{tour}-18-phone-sign" if person is plaintiff else None, axe=False)
        person.submit(sign_form.locator("button[type=submit]"), "signed")
        assert Signature.objects.filter(version__agreement=agreement, signer=user, party=party, method="drawn").exists()

    # The last signature seals it; the sealed PDF downloads.
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.SEALED
    defendant.goto(f"/agreements/{agreement.pk}/", "sealed", tour=f"{tour}-19-phone-sealed")
    with defendant.page.expect_download() as download:
        defendant.page.locator('[data-download="sealed"]').click()
    sealed = download_bytes(download.value)
    assert sealed.startswith(b"%PDF-") and hashlib.sha256(sealed).hexdigest() == agreement.sealed_blob_id

    # Anyone can check a copy at /verify/: the original is intact, a changed copy is not.
    stranger = journey.person("stranger")
    for name, data, result in (("sealed.pdf", sealed, "original"), ("changed.pdf", modified_copy(sealed), "changed")):
        stranger.goto("/verify/", f"verify {name}")
        stranger.page.locator("input[name=file]").set_input_files(
            files=[{"name": name, "mimeType": "application/pdf", "buffer": data}]
        )
        stranger.submit(
            stranger.page.locator("main form button[type=submit]"),
            f"verified {name}",
            tour=f"{tour}-20-verify-{result}",
        )
        assert stranger.page.locator(f'[data-verification-result] [data-result="{result}"]').is_visible()
        signatures = stranger.page.locator("[data-signatures]").get_attribute("data-signatures")
        assert signatures == ("valid" if result == "original" else "invalid")
    return sealed


def test_settlement_signed_on_phones_sealed_and_verified(journey):
    sealed = settlement(journey, language="en")
    text = re.sub(r"\s+", "", pdf_text(sealed))
    assert "调解协议书" in text


# -- 6. closing the loop ------------------------------------------------------------------


def settled_by_sealed_agreement(court: Court) -> tuple[WorkOrder, Agreement]:
    """A hotline order referred to mediation and settled by a sealed agreement: the
    state journeys 1 to 5 lead to, and the judge's call to the requester. The order
    awaits the liaison's confirmation."""
    order = WorkOrderFactory(
        channel="hotline",
        category="urge",
        requester_name="王芳",
        content="上海星河文化传媒有限公司：北京云图科技有限公司拖欠视频制作费五十万元，请求督促。",
    )
    order_services.dispatch_work_order(order=order, actor=court.liaison, department=court.civil, assignee=court.judge)
    case = cases.refer_to_mediation(
        order=order, actor=court.judge, mediator=court.mediator, cause_of_action="合同纠纷", claim_amount=500000
    )
    world = make_case_with_parties(court, case)
    agreement = agreements.start_agreement(case=world.case, actor=court.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=court.mediator,
        facts="被告欠付视频制作费五十万元。",
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
        costs="本次调解不收取费用。",
        effectiveness="本协议经各方签署并由平台加盖时间戳后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=court.mediator)
    for signer, party, password in (
        (court.mediator, None, PASSWORD),
        (world.plaintiff, world.plaintiff_party, world.passwords["plaintiff"]),
        (world.defendant, world.defendant_party, world.passwords["defendant"]),
    ):
        agreement = Agreement.objects.get(pk=agreement.pk)
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
    # The seal records the outcome but tells the requester nothing: the judge calls her
    # and records it, and the department reports back.
    order_services.reply_to_requester(
        order=order, actor=court.judge, content="已电话告知王芳调解成功。", channel="phone"
    )
    order_services.submit_for_confirmation(order=order, actor=court.dept_liaison)
    return WorkOrder.objects.get(pk=order.pk), Agreement.objects.get(pk=agreement.pk)


def figures_row(person) -> dict[str, str]:
    """This year's row of the figures table, by column heading."""
    page = person.page
    table = page.locator("table.figures").first
    headings = table.locator("thead th").all_inner_texts()
    row = table.locator("tbody tr", has=page.locator("th", has_text=str(timezone.localdate().year)))
    cells = [row.locator("th").inner_text(), *row.locator("td").all_inner_texts()]
    return dict(zip(headings, cells, strict=True))


def test_closing_confirmation_return_visit_and_figures(journey):
    court = off_the_loop(make_court)
    order, agreement = off_the_loop(settled_by_sealed_agreement, court)
    assert order.status == WorkOrder.Status.AWAITING_CONFIRMATION
    assert agreement.status == Agreement.Status.SEALED
    liaison = journey.person("liaison")
    liaison.sign_in(court.liaison)

    liaison.goto("/figures/", "figures before")
    before = figures_row(liaison)

    # The liaison finds the order awaiting confirmation, with the mediation's outcome.
    liaison.goto("/desk/?status=awaiting_confirmation", "desk awaiting confirmation", tour="en-21-desk-awaiting")
    rows = liaison.page.locator("table.orders tbody tr")
    assert rows.count() == 1
    liaison.submit(rows.get_by_role("link", name=order.number), "order awaiting confirmation")
    assert agreement.verification_code in liaison.text()

    # ... confirms the outcome and closes it,
    close = open_action(liaison, "Confirm and close")
    close.get_by_label(label("Confirmed outcome")).fill("调解成功，双方签署调解协议，被告分三期支付五十万元。")
    liaison.submit(close.get_by_role("button", name="Confirm and close"), "closed")
    assert any("Close this order?" in message for message in journey.dialogs)
    assert WorkOrder.objects.get(pk=order.pk).status == WorkOrder.Status.CLOSED

    # ... and records the return visit.
    visit = open_action(liaison, "Record a return visit")
    visit.locator("input[name=return_visit-reached][value=yes]").check()
    visit.locator("select[name=return_visit-resolved]").select_option("yes")
    visit.locator("select[name=return_visit-satisfaction]").select_option("satisfied")
    visit.locator("textarea[name=return_visit-comment]").fill("王女士表示第一期款项已收到，对调解结果满意。")
    liaison.check("return visit form")
    liaison.submit(
        visit.get_by_role("button", name="Record a return visit"), "return visit recorded", tour="en-22-closed"
    )
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.return_visited_at is not None and order.return_visit_satisfaction == "satisfied"

    # The figures page counts it.
    liaison.goto("/figures/", "figures after", tour="en-23-figures")
    after = figures_row(liaison)
    assert int(after["Closed"]) == int(before["Closed"]) + 1
    assert after["Return-visit rate"] != before["Return-visit rate"]
    assert after["Return-visit rate"].startswith("100") and after["Satisfaction rate"].startswith("100")


# -- 7. journeys 3 and 5 in Chinese ----------------------------------------------------------


def test_mediation_and_settlement_in_chinese(journey):
    journey.language = "zh-hans"
    # Names the platform's certificates carry (configuration, not interface text).
    journey.data += [settings.PKI_ORGANISATION, settings.PKI_AUTHORITY_NAME + " TSA", settings.PKI_AUTHORITY_NAME]
    court = off_the_loop(make_court)
    mediation_in_rooms(journey, language="zh-hans", court=court)
    journey.close()
    sealed = settlement(journey, language="zh-hans", court=court)

    # The sealed agreement is in Chinese, with no English beyond names and data.
    text = pdf_text(sealed)
    compact = re.sub(r"\s+", "", text)
    for expected in ("调解协议书", "上海星河文化传媒有限公司", "北京云图科技有限公司", "500,000.00", "验证码"):
        assert expected in compact, expected
    assert english_words(text, journey.data) == [], text


# -- the smallest phones -------------------------------------------------------------------


def test_every_page_of_a_party_and_a_liaison_fits_a_360_px_phone(journey):
    """Each page the journeys visit on a phone, and the desk's own pages, on the
    narrowest phones still common: nothing wider than the screen, axe-core clean."""
    court = off_the_loop(make_court)
    order, agreement = off_the_loop(settled_by_sealed_agreement, court)
    case = agreement.case
    joint = rooms_of(case)[RoomKind.JOINT]
    defendant_user = case.participants.get(party__side="defendant").user
    defendant = journey.person("defendant", phone=True, width=360)
    defendant.sign_in(defendant_user)
    for path, label in (
        ("/my-cases/", "my cases"),
        (f"/cases/{case.pk}/", "case"),
        (f"/rooms/{joint.pk}/", "joint room"),
        (f"/cases/{case.pk}/documents/", "documents"),
        (f"/agreements/{agreement.pk}/", "sealed agreement"),
        ("/notifications/", "notifications"),
        ("/verify/", "verification"),
    ):
        defendant.goto(path, label)
    # The plaintiff's agent, on their power of attorney.
    agent_user = case.participants.get(party__side="plaintiff").user
    power = PowerOfAttorney.objects.get(participant__user=agent_user)
    agent = journey.person("agent", phone=True, width=360)
    agent.sign_in(agent_user)
    for path, label in (
        (f"/cases/{case.pk}/powers-of-attorney/", "powers of attorney"),
        (f"/powers-of-attorney/{power.pk}/", "power of attorney"),
    ):
        agent.goto(path, label)
    liaison = journey.person("liaison", phone=True, width=360)
    liaison.sign_in(court.liaison)
    for path, label in (
        ("/desk/", "desk"),
        ("/desk/new/", "intake"),
        (f"/orders/{order.number}/", "order"),
        ("/figures/", "figures"),
    ):
        liaison.goto(path, label)
