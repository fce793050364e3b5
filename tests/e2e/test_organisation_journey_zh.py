"""The court's mediation organisation, in Chinese: the judge delegates a neighbours'
dispute to a people's mediation committee of the roster (委派调解) from the work
order's page; the committee's administrator dispatches it to one of its mediators
from her queue; the mediator accepts it on a phone; he mediates with the plaintiff's
representative online (the joint room) and with the elderly defendant in person at the
court, who signs a paper copy of the agreement: the mediator records it with the scan,
the judge confirms it as the second member of staff, and the agreement is sealed with
one signature digital and one made on paper, which its signing certificate says. A
second case fails: the mediator writes the facts both sides accepted and the filing
package for the case-filing division downloads, sealed, with those facts.

Drafting and the online party's own signature are what earlier journeys prove: they
are made here through the services."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from PIL import Image, ImageDraw
from pypdf import PdfReader

from documents.models import Agreement, CourtDocument, InPersonAct
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.models import Delegation, MediationCase
from mediation.roles import Role
from mediation.services import cases
from mediation.services import work_orders as order_services
from rooms.models import RoomKind
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import (
    download_bytes,
    label,
    make_court,
    open_action,
    rooms_of,
    send_by_tapping,
    wait_for_message,
)
from tests.factories import PASSWORD, UserFactory, WorkOrderFactory
from tests.in_person import drawn_signature
from tests.roster import make_organisation, make_organisation_admin, make_roster_mediator

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COMMITTEE = "八里庄街道人民调解委员会"
CAUSE = "相邻关系纠纷"
ELDER = "赵德福"
UNDISPUTED = "双方均确认：被告于2026年5月在其房屋北侧加建彩钢棚，距原告窗户不足一米。"


def squashed(text: str) -> str:
    return "".join(text.split())


def pdf_text(data: bytes) -> str:
    return squashed("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def scan_png() -> bytes:
    """A phone photo of the signed paper copy."""
    image = Image.new("RGB", (640, 900), (252, 252, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 610, 870), outline=(40, 40, 40), width=3)
    draw.line([(380, 760), (450, 700), (520, 780), (590, 720)], fill=(10, 10, 10), width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_world():
    court = make_court()
    committee = make_organisation(name=COMMITTEE, region="北京市朝阳区")
    admin = make_organisation_admin(committee, full_name="王红梅", email="admin@committee.test")
    mediator = make_roster_mediator(
        committee,
        causes=[CAUSE, "婚姻家庭纠纷"],
        title="人民调解员",
        user=UserFactory(roles=[Role.MEDIATOR], full_name="马建国", email="ma@committee.test"),
    )
    order = WorkOrderFactory(
        channel="hotline",
        category="mediation_request",
        requester_name="孙丽",
        content="邻居加建彩钢棚挡住采光，请求法院调解。",
    )
    order_services.dispatch_work_order(order=order, actor=court.liaison, department=court.civil, assignee=court.judge)
    return court, committee, admin, mediator, order


@transaction.atomic
def parties_of_the_delegated_case(case: MediationCase, mediator, tag: str = "") -> tuple:
    """The plaintiff (a company, its legal representative online) and the elderly
    defendant, who never comes online: no account, only his party."""
    plaintiff = cases.add_party(
        case=case,
        actor=mediator,
        side="plaintiff",
        kind="organisation",
        name="北京朝阳星光物业有限公司",
        legal_representative="孙丽",
    )
    elder = cases.add_party(case=case, actor=mediator, side="defendant", kind="person", name=ELDER)
    representative = UserFactory(full_name="孙丽", email=f"sun.li{tag}@plaintiff.test")
    cases.attach_participant(
        case=case, party=plaintiff, user=representative, role="legal_representative", actor=mediator
    )
    cases.start_mediation(case=case, actor=mediator)
    return plaintiff, elder, representative


def locked_agreement(case, mediator, plaintiff, elder) -> Agreement:
    agreement = agreements.start_agreement(case=case, actor=mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts="被告加建的彩钢棚影响原告物业管理区域内住户采光。",
        terms=[
            {
                "kind": "act",
                "obligor": elder.pk,
                "obligee": plaintiff.pk,
                "act": "被告于2027年1月31日前自行拆除房屋北侧彩钢棚。",
                "due_date": "2027-01-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签字后生效。",
        judicial_confirmation=False,
    )
    agreements.lock_agreement(agreement=agreement, actor=mediator)
    return Agreement.objects.get(pk=agreement.pk)


def sign_digitally(agreement: Agreement, user, party=None) -> None:
    agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        agreements.sign_agreement(
            agreement=agreement,
            actor=user,
            version_hash=agreement.current_version.content_hash,
            party=party,
            method="drawn",
            image_png=drawn_signature(),
            reauthentication=Reauthentication(password=PASSWORD),
            ip="203.0.113.9",
            user_agent="journey",
        )


def test_delegated_to_a_committee_settled_with_a_paper_signature_and_a_second_case_fails(journey, tmp_path):
    journey.language = "zh-hans"
    t = journey.t
    court, committee, admin, roster_mediator, order = off_the_loop(make_world)
    journey.data += [order.number, "JSON"]

    # 1. The judge delegates the dispute to the committee from the work order's page.
    judge = journey.person("judge")
    judge.sign_in(court.judge)
    judge.goto(f"/orders/{order.number}/", "order")
    refer = open_action(judge, t("Refer to mediation"))
    refer.get_by_role("radio", name=t("Delegate to a mediation organisation")).check()
    refer.get_by_label(label(t("Mediation organisation"))).select_option(label=COMMITTEE)
    refer.get_by_label(label(t("Cause of action"))).fill(CAUSE)
    refer.get_by_label(label(t("Facts and claims"))).fill("原告称被告加建彩钢棚挡住住户采光，请求拆除。")
    judge.submit(refer.get_by_role("button", name=t("Refer to mediation")), "delegated")
    case = off_the_loop(MediationCase.objects.get, work_order=order)
    assert case.status == MediationCase.Status.DELEGATED and case.mediator_id is None
    assert case.number in judge.text()
    delegation = off_the_loop(Delegation.objects.get, case=case)
    letter = off_the_loop(lambda: CourtDocument.objects.get(case=case, kind=CourtDocument.Kind.DELEGATION_LETTER))
    assert letter.is_sealed

    # 2. The committee's administrator dispatches it to one of its mediators.
    dispatcher = journey.person("committee admin")
    dispatcher.sign_in(admin)
    dispatcher.goto("/organisation/delegations/", "delegation queue")
    assert case.number in dispatcher.text()
    dispatch = dispatcher.page.locator("form[data-dispatch-form]").filter(has=dispatcher.page.locator("select"))
    dispatch.locator("select").select_option(str(roster_mediator.pk))
    dispatcher.submit(dispatch.get_by_role("button", name=t("Dispatch to a mediator")), "dispatched")
    delegation.refresh_from_db()
    assert delegation.status == Delegation.Status.AWAITING_ACCEPTANCE
    assert delegation.dispatched_to_id == roster_mediator.pk

    # 3. The mediator accepts it on his phone: the case is his.
    mediator = journey.person("committee mediator", phone=True)
    mediator.sign_in(roster_mediator)
    mediator.goto(f"/cases/{case.pk}/", "delegated case")
    accept = open_action(mediator, t("Accept the case"))
    mediator.submit(accept.get_by_role("button", name=t("Accept the case")), "accepted")
    case.refresh_from_db()
    assert (case.status, case.mediator_id, case.organisation_id) == (
        MediationCase.Status.PENDING,
        roster_mediator.pk,
        committee.pk,
    )

    # 4. The plaintiff's representative takes part online, in the joint room.
    plaintiff, elder, representative = off_the_loop(parties_of_the_delegated_case, case, roster_mediator)
    journey.data += [ELDER]
    joint = off_the_loop(rooms_of, case)[RoomKind.JOINT]
    online = journey.person("plaintiff", phone=True, width=360)
    online.sign_in(representative)
    online.goto(f"/rooms/{joint.pk}/", "joint room")
    words = "我们同意给赵老伯一个月时间自行拆除。"
    send_by_tapping(online, words)
    mediator.goto(f"/rooms/{joint.pk}/", "joint room")
    wait_for_message(mediator.page, words)

    # 5. The agreement: the plaintiff's side and the mediator sign digitally; the
    # elderly defendant signs a paper copy at the court, which the mediator records.
    agreement = off_the_loop(locked_agreement, case, roster_mediator, plaintiff, elder)
    off_the_loop(sign_digitally, agreement, roster_mediator)
    off_the_loop(sign_digitally, agreement, representative, plaintiff)
    scan = tmp_path / "paper-agreement.png"
    scan.write_bytes(scan_png())
    mediator.goto(f"/cases/{case.pk}/in-person/", "acts done in person")
    form = mediator.page.locator("form[data-in-person-form]")
    form.get_by_label(label(t("What was done"))).select_option(InPersonAct.Kind.PAPER_SIGNATURE)
    form.get_by_label(label(t("For the party"))).select_option(label=ELDER)
    form.get_by_label(label(t("Name of the person who acted"))).fill(ELDER)
    form.get_by_label(label(t("In which capacity"))).select_option("party")
    form.get_by_label(label(t("Where"))).select_option("court")
    form.get_by_label(label(t("Where exactly (room, address)"))).fill("第三调解室")
    moment = timezone.localtime() - timezone.timedelta(minutes=30)
    form.get_by_label(label(t("When"))).fill(moment.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[type=file]").set_input_files(str(scan))
    mediator.submit(form.get_by_role("button", name=t("Record")), "paper signature recorded")
    act = off_the_loop(InPersonAct.objects.get, case=case)
    assert not act.is_confirmed
    assert off_the_loop(Agreement.objects.get, pk=agreement.pk).status == Agreement.Status.SIGNING

    # 6. The judge, a second member of staff, checks the scan and confirms it: the
    # agreement is sealed.
    judge.goto(f"/cases/{case.pk}/in-person/", "acts to confirm")
    judge.submit(judge.page.locator("[data-confirm-in-person]").first, "confirmed")
    sealed = off_the_loop(Agreement.objects.select_related("sealed_blob", "certificate_blob").get, pk=agreement.pk)
    assert sealed.status == Agreement.Status.SEALED
    report = off_the_loop(verify_pdf, off_the_loop(read_blob, sealed.sealed_blob))
    assert report.all_valid, report.signatures
    certificate = pdf_text(off_the_loop(read_blob, sealed.certificate_blob))
    assert ELDER in certificate and "纸质" in certificate and "第三调解室" in certificate

    # 7. A second case of the same mediator fails: the facts both sides accepted go into
    # the filing package, which downloads sealed.
    second = off_the_loop(cases.open_mediation_case, actor=roster_mediator, cause_of_action=CAUSE, judge=court.judge)
    off_the_loop(parties_of_the_delegated_case, second, roster_mediator, "2")
    mediator.goto(f"/cases/{second.pk}/", "second case")
    fail = open_action(mediator, t("Record that mediation failed"))
    fail.get_by_label(label(t("Reason"))).fill("被告不同意拆除，双方分歧较大。")
    fail.get_by_label(label(t("Facts both sides accepted"))).fill(UNDISPUTED)
    mediator.submit(fail.get_by_role("button", name=t("Record that mediation failed")), "failed")
    second.refresh_from_db()
    assert second.status == MediationCase.Status.FAILED
    with mediator.page.expect_download() as download:
        mediator.page.locator("[data-filing-package-pdf]").click()
    package = download_bytes(download.value)
    assert off_the_loop(verify_pdf, package).all_valid
    text = pdf_text(package)
    assert squashed(UNDISPUTED) in text and second.number in text
    assert not journey.outside_requests
