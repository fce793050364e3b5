"""The append-only audit trail is kept forever, so it holds no personal data in clear
(PIPL): after a whole journey, from a citizen's call to parties invited, served,
corrected and removed, no name, e-mail address, phone or resident ID number is found
anywhere in it. Entries refer to rows by id and to personal values by keyed hash;
names are looked up when the trail is read. Entries written before this rule keep
verifying."""

from __future__ import annotations

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from documents.services import serving
from mediation import audit, id_numbers, phones
from mediation.audit_keys import signing_key
from mediation.models import AuditChainHead, AuditEntry, Invitation, Party, User, WorkOrder
from mediation.roles import API_CLIENT_GROUP
from mediation.services import cases, parties
from mediation.services import work_orders as services
from mediation.services.invitations import invite_participant
from tests.cases import accept_by_text
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("court_files_in_use")]

REQUESTER = {"name": "周晓梅", "phone": "13712345678", "id_number": "440305198812120013"}
RESPONDENT = {"name": "吴建国", "phone": "13698765432", "id_number": "110101199003071153"}
CORRECTED = {"name": "吴建华", "phone": "+85261234567", "id_number": "11010519491231002X"}
MISTAKEN = {"name": "吴建军", "phone": "15011112222", "id_number": "11010119751105123X"}
ADDRESS = "北京市朝阳区幸福路1号"
INVITEE_EMAIL = "wu.jianhua@example.test"


def phone_forms(value: str) -> list[str]:
    number = phones.parse(value)
    national = str(number.national_number)
    return [number.as_e164, national, phones.display(number), phones.display(number).replace(" ", "")]


def trail_text() -> str:
    """Everything the trail holds about each entry, as one text."""
    return "\n".join(
        json.dumps([entry.actor_label, entry.target_id, entry.data], ensure_ascii=False, default=str)
        for entry in AuditEntry.objects.order_by("id")
    )


@pytest.fixture
def journey(court):
    """On top of the court's world (orders through every state, a case with both
    sides, documents served, a consent with an e-mail address, invitations, an
    agreement locked): a citizen's call taken by the hotline, referred to mediation,
    the parties recorded with their phones, ID numbers and address, the respondent
    corrected, a mistaken party removed, a person invited by e-mail who joins and
    consents to service at their address, and the order closed with a note naming the
    requester."""
    people = court.people
    liaison, judge, mediator = people["general_liaison"], people["judge"], people["mediator"]
    order, _created = services.receive_work_order(
        actor=liaison,
        channel="hotline",
        category="mediation_request",
        requester_name=REQUESTER["name"],
        requester_phone=REQUESTER["phone"],
        requester_id_number=REQUESTER["id_number"],
        content=f"{REQUESTER['name']}来电：{RESPONDENT['name']}欠款未还，电话{RESPONDENT['phone']}。",
    )
    services.dispatch_work_order(order=order, actor=liaison, department=court.civil, assignee=judge)
    services.start_work_order(order=order, actor=judge, note=f"已联系{REQUESTER['name']}，电话{REQUESTER['phone']}")
    case = cases.refer_to_mediation(
        order=order, actor=judge, mediator=mediator, cause_of_action="民间借贷纠纷", claim_amount=30000
    )
    plaintiff = cases.add_party(
        case=case, actor=mediator, side="plaintiff", kind="person", address=ADDRESS, **REQUESTER
    )
    respondent = cases.add_party(case=case, actor=mediator, side="defendant", kind="person", **RESPONDENT)
    parties.edit_party(party=respondent, actor=mediator, side="defendant", kind="person", address=ADDRESS, **CORRECTED)
    mistaken = cases.add_party(case=case, actor=mediator, side="defendant", kind="person", **MISTAKEN)
    parties.remove_party(party=mistaken, actor=mediator, reason=f"{MISTAKEN['name']}与{RESPONDENT['name']}重复")
    invitee = UserFactory(email=INVITEE_EMAIL, full_name=CORRECTED["name"])
    EmailAddress.objects.create(user=invitee, email=INVITEE_EMAIL, verified=True, primary=True)
    _invitation, token = invite_participant(
        case=case, actor=mediator, party=respondent, role="party", email=INVITEE_EMAIL, full_name=CORRECTED["name"]
    )
    accept_by_text(token, user=invitee, id_number=CORRECTED["id_number"])
    serving.record_consent(case=case, user=invitee, email=INVITEE_EMAIL)
    return {"order": order, "case": case, "plaintiff": plaintiff, "respondent": respondent, "invitee": invitee}


def test_no_name_email_phone_or_id_number_is_in_the_trail_after_a_whole_journey(court, journey):
    text = trail_text()

    needles = {ADDRESS, INVITEE_EMAIL}
    for person in (REQUESTER, RESPONDENT, CORRECTED, MISTAKEN):
        needles |= {person["name"], person["id_number"], id_numbers.normalise(person["id_number"])}
        needles |= set(phone_forms(person["phone"]))
    # Every account of the world (staff and parties) by name and e-mail address.
    # (An integration's service account is named after its system: "hotline", a channel too.)
    for user in User.objects.exclude(groups__name=API_CLIENT_GROUP):
        needles |= {user.email, *([user.full_name] if user.full_name else [])}
    for party in Party.objects.all():
        needles.add(party.name)
    for invitation in Invitation.objects.exclude(email=""):
        needles.add(invitation.email)
    for order in WorkOrder.objects.all():
        needles |= {order.requester_name, *phone_forms(str(order.requester_phone))}
    found = sorted(needle for needle in needles if needle and needle in text)
    assert found == []
    # The entries still say what happened, to which rows.
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"mediation_case.add_party", "mediation_case.edit_party", "mediation_case.remove_party"} <= actions
    assert {"mediation_case.invite", "mediation_case.join", "service.consent", "work_order.receive"} <= actions
    join = AuditEntry.objects.filter(action="mediation_case.join").latest("id")
    assert (join.actor_id, join.data["party"]) == (journey["invitee"].pk, journey["respondent"].pk)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact" in out.getvalue()


def test_a_personal_value_is_found_again_by_its_keyed_hash_while_it_is_on_record(court, journey):
    # A person asking what the court holds about them: their number's reference
    # finds the entries, however the number was typed.
    reference = audit.personal_reference("phone", "+86 137 1234 5678")
    edit = AuditEntry.objects.filter(action="mediation_case.edit_party").latest("id")
    consent = AuditEntry.objects.get(action="service.consent", actor_id=journey["invitee"].pk)

    assert reference == audit.personal_reference("phone", REQUESTER["phone"])
    assert reference.startswith("hmac-sha256:") and REQUESTER["phone"] not in reference
    assert edit.data["changes"]["phone"]["old"] == audit.personal_reference("phone", RESPONDENT["phone"])
    assert consent.data["email"] == audit.personal_reference("email", INVITEE_EMAIL.upper())
    assert audit.personal_reference("name", REQUESTER["name"]) != audit.personal_reference("phone", REQUESTER["name"])


def test_the_trail_names_actors_when_it_is_read_and_an_erased_account_by_its_id(court, journey):
    invitee = journey["invitee"]
    consent = AuditEntry.objects.get(action="service.consent", actor_id=invitee.pk)
    system = AuditEntry.objects.filter(actor_id__isnull=True).first()

    assert consent.actor_label == ""
    assert audit.actor_display(consent) == CORRECTED["name"]
    assert audit.actor_display(system) == "system"
    # Erasing the account (here by hand) leaves the trail intact and naming nobody.
    User.objects.filter(pk=invitee.pk).update(full_name="", email=f"erased-{invitee.pk}@invalid")
    assert audit.actor_display(consent) == f"erased-{invitee.pk}@invalid"
    assert audit.actor_display(consent, users={}) == f"#{invitee.pk}"


def test_entries_written_with_personal_data_before_the_rule_keep_verifying(court):
    # An entry as the platform wrote it before: the actor's e-mail address as its
    # label, a party's name and an address in clear. It is not rewritten (that would
    # break the chain), and entries after it chain on and verify.
    liaison = court.people["general_liaison"]
    with transaction.atomic():
        head = audit.hold_chain()
        fields = {
            "created_at": timezone.now(),
            "actor_id": liaison.pk,
            "actor_label": liaison.email,
            "action": "mediation_case.add_party",
            "target_type": "mediation.mediationcase",
            "target_id": str(court.case.case.pk),
            "data": {"party": 1, "name": "孙桂兰", "email": "old@example.test"},
        }
        key = signing_key()
        entry_hash = audit.keyed_digest(key=key, prev_hash=head.last_hash, **fields)
        old = AuditEntry.objects.create(prev_hash=head.last_hash, entry_hash=entry_hash, key_id=key.key_id, **fields)
        AuditChainHead.objects.filter(pk=1).update(
            last_hash=entry_hash, last_entry_id=old.pk, entry_count=head.entry_count + 1
        )
    mediator = court.people["mediator"]
    case = cases.open_mediation_case(actor=mediator, cause_of_action="相邻关系纠纷", claim_amount=0)
    cases.add_party(case=case, actor=mediator, side="plaintiff", kind="person", name="孙桂兰")

    out = io.StringIO()
    call_command("verify_audit", stdout=out)

    assert "Audit trail intact" in out.getvalue()
    old.refresh_from_db()
    assert (old.actor_label, old.data["name"]) == (liaison.email, "孙桂兰")
    newest = AuditEntry.objects.latest("id")
    assert AuditEntry.objects.filter(id__gt=old.pk).order_by("id").first().prev_hash == old.entry_hash
    assert newest.action == "mediation_case.add_party"
    assert "孙桂兰" not in json.dumps(newest.data, ensure_ascii=False)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+8613812345678", "phone"),
        ("13812345678", "phone"),
        ("+85261234567", "phone"),
        ("Wu.Jianhua@Example.test", "email"),
        ("11010519491231002X", "id_number"),
    ],
)
def test_a_personal_value_under_any_key_is_kept_as_its_reference(court, value, kind):
    case = court.case.case
    with transaction.atomic():
        entry = audit.record(actor=None, action="test.contact", target=case, data={"to": value, "sent": [value]})

    assert entry.data == {"to": audit.personal_reference(kind, value), "sent": [audit.personal_reference(kind, value)]}


def test_codes_numbers_and_times_stay_as_they_are(court):
    data = {
        "order": "GD-2026-000123",
        "case_number": "(2026)京0105民诉前调1号",
        "sha256": "0" * 64,
        "at": "2026-12-07T09:30:00+08:00",
        "amount": "500000",
        "count": 12,
        "channel": "hotline",
    }
    with transaction.atomic():
        entry = audit.record(actor=None, action="test.codes", target=court.case.case, data=data)

    assert entry.data == data
