"""Who may reach what: every named URL of the URL conf × every role.

RIGHTS below is the one table of intended rights. Each row names a URL (and, where
one URL serves several actions or objects, which one), the method, and the roles
that may use it. A GET is allowed when it answers 200 or 302 (not a redirect to a
login page); a POST is allowed when it is not refused (not 401/403/404/405, not a
redirect to a login page): a page action may still answer 400 or 409, or redirect
with a message when the service refuses for a reason other than the person's rights
(those refusals are tested with each service). Everyone else must get 401/403/404, or
for a signed-out visitor a redirect to the login page.

The world is built once for the module (tests/security/world.py); each request runs
in a savepoint, so what an allowed POST changes is undone before the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from mediation.models import Notification
from mediation.models import WorkOrder as Order
from tests.security.world import ROLES

pytestmark = pytest.mark.usefixtures("court_files_in_use")

# Role sets ---------------------------------------------------------------------------------

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
NOBODY = frozenset()
# The desk: court staff who handle work orders, and the operator.
DESK = frozenset({"general_liaison", "department_liaison", "department_head", "judge", "other_judge", "superuser"})
FIGURES = frozenset({"general_liaison", "department_liaison", "department_head", "superuser"})
# The judge's order in the civil division: who sees it, and who handles it.
ORDER_VIEWERS = frozenset({"general_liaison", "department_liaison", "department_head", "judge", "superuser"})
ORDER_HANDLERS = frozenset({"department_liaison", "department_head", "judge"})
ORDER_LIAISONS = frozenset({"general_liaison", "department_liaison"})
# Department heads read their department's cases, organisation admins their organisations'.
CASE_LIST = frozenset(
    {
        "general_liaison",
        "department_head",
        "judge",
        "other_judge",
        "mediator",
        "other_mediator",
        "organisation_admin",
        "superuser",
    }
)
# Case A: who may read it, who is on one of its sides (a party of case B is neither).
# The department head of the case's judge and mediator supervises it (督办) and reads it.
CASE_VIEWERS = frozenset(
    {"general_liaison", "department_head", "mediator", "judge", "plaintiff", "defendant", "superuser"}
)
CASE_SIDES = frozenset({"mediator", "judge", "plaintiff", "defendant"})
CASE_FILES = CASE_SIDES | {"superuser"}
# Who may record (and see the scan of) an ID check of case A's participants.
IDENTITY_CHECKERS = frozenset({"general_liaison", "mediator", "judge"})
# Rooms of case A: caucus isolation (背对背调解).
JOINT_ROOM = frozenset({"mediator", "judge", "plaintiff", "defendant"})
PLAINTIFF_CAUCUS = frozenset({"mediator", "plaintiff"})
# An invitation's page and its code: everyone but court staff.
INVITEES = frozenset({"anonymous", "no_role", "plaintiff", "defendant", "other_party"})
DEFENDANT_CAUCUS = frozenset({"mediator", "defendant"})
# The defendant's consent given in person: the court's side, the operator and the defendant.
IN_PERSON_READERS = frozenset({"general_liaison", "mediator", "judge", "defendant", "superuser"})
# The filing package of a failed case: the court's (its mediator and judge, the general
# liaison, the originating order's handlers, the operator), never a party's.
FILING_PACKAGE_READERS = frozenset(
    {"general_liaison", "department_liaison", "department_head", "judge", "mediator", "superuser"}
)


@dataclass(frozen=True)
class Row:
    name: str
    allowed: frozenset
    method: str = "GET"
    kwargs: Callable = lambda w: {}
    data: Callable = lambda w: {}
    variant: str = ""
    path: str = ""  # for a name that more than one pattern carries
    json: bool = False
    query: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.name}" + (f" [{self.variant}]" if self.variant else "")


def order(status):
    return lambda w: {"number": w.orders[status].number}


def case_a(w):
    return {"case_id": w.case.case.pk}


# The roster: the general liaison manages it; an organisation admin edits their own
# organisation's mediators' profiles; the operator reads.
ROSTER_MANAGERS = frozenset({"general_liaison"})
ROSTER_PROFILE_EDITORS = frozenset({"general_liaison", "organisation_admin"})
ROSTER_COURT = frozenset({"general_liaison", "superuser"})
ROSTER_VIEWERS = ROSTER_COURT | {"organisation_admin"}


def own_organisation(w):
    return {"organisation_id": w.roster.organisation.pk}


def other_organisation(w):
    return {"organisation_id": w.roster.other_organisation.pk}


def own_profile(w):
    return {"profile_id": w.roster.profile.pk}


def other_profile(w):
    return {"profile_id": w.roster.other_profile.pk}


INTAKE = {
    "external_id": "matrix-1",
    "channel": "hotline",
    "category": "contact_judge",
    "requester_name": "Wang",
    "requester_phone": "13800000000",
    "content": "Please call me back.",
}


def sms_receipt() -> dict:
    """A fresh Alibaba Cloud delivery receipt for a message nobody sent."""
    now = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    return {"biz_id": "matrix^0", "success": True, "err_code": "DELIVERED", "report_time": now}


# fmt: off
RIGHTS = [
    # -- public ---------------------------------------------------------------------------------
    Row("set_language", EVERYONE, "POST", data=lambda w: {"language": "en"}, path="/i18n/setlang/"),
    Row("set_language", EVERYONE, "POST", data=lambda w: {"language": "en"}, path="/language/"),
    # Large type: anyone switches it for themselves (account or session), nothing else.
    Row("large_type", EVERYONE, "POST", data=lambda w: {"on": "1", "next": "/"}),
    Row("javascript-catalog", EVERYONE),
    Row("api_schema", EVERYONE),
    Row("verify", EVERYONE),
    Row("verify_ca", EVERYONE),
    Row("verify_record", EVERYONE, kwargs=lambda w: {"code": w.agreement.verification_code}),
    # Applying and tracking without staff: open to all; what they do is bound by SMS codes.
    Row("apply", EVERYONE),
    Row("apply", EVERYONE, "POST", data=lambda w: {"phone": "13800138000", "action": "send_code"},
        variant="send a code"),
    Row("apply_done", EVERYONE),
    Row("apply_track", EVERYONE),
    Row("apply_track", EVERYONE, "POST", data=lambda w: {"phone": "13800138000", "action": "send_code"},
        variant="send a code"),
    Row("track", EVERYONE),
    Row("api_public_codes", EVERYONE, "POST", json=True,
        data=lambda w: {"phone": "+8613800138000", "purpose": "track"}),
    # Refused for its fields (400), not for who asks: no session is looked at.
    Row("api_public_applications", EVERYONE, "POST", json=True, data=lambda w: {}),
    # Without a fresh code sent to the requester's number nobody sees an order here,
    # court staff included (tests/mediation/test_public_api.py: with one).
    Row("api_public_work_order", NOBODY, kwargs=order("received"),
        query={"phone": "+8613800000000", "code": "123456"}),
    # An invitation link: anyone may read it, have a code texted to the invited number
    # and try one, except court staff, who never join for a party. The code, not the
    # link, lets a person in (tests/mediation/test_invitations.py).
    Row("invitation", INVITEES, kwargs=lambda w: {"token": w.invitation_token}),
    Row("invitation", INVITEES, "POST", kwargs=lambda w: {"token": w.invitation_token},
        data=lambda w: {"action": "send_code"}, variant="text a code to the invited number"),
    Row("invitation", INVITEES, "POST", kwargs=lambda w: {"token": w.invitation_token},
        data=lambda w: {"action": "accept", "code": "000000"}, variant="accept with a code"),
    # SMS delivery receipts: the provider is the caller, with no session; the secret in
    # the address is the only thing that lets a receipt in (tests/mediation/test_sms.py).
    Row("sms_receipt", NOBODY, "POST", json=True, kwargs=lambda w: {"provider": "aliyun"},
        data=lambda w: [sms_receipt()], variant="without the secret"),
    Row("sms_receipt", NOBODY, "POST", json=True, kwargs=lambda w: {"provider": "tencent", "token": "guessed"},
        data=lambda w: [sms_receipt()], variant="with a wrong secret"),
    Row("sms_receipt", EVERYONE, "POST", json=True,
        kwargs=lambda w: {"provider": "aliyun", "token": settings.SMS_RECEIPT_TOKEN},
        data=lambda w: [sms_receipt()], variant="with the secret"),
    # -- every signed-in person: their own things ------------------------------------------------
    Row("home", SIGNED_IN),
    Row("my_work_orders", SIGNED_IN),
    Row("my_cases", SIGNED_IN),
    Row("notifications", SIGNED_IN),
    Row("notification_count", SIGNED_IN),
    Row("notifications_read_all", SIGNED_IN, "POST"),
    # Opening marks only one's own notification read (see the test below).
    Row("notification_open", SIGNED_IN, "POST", kwargs=lambda w: {"notification_id": w.notification.pk}),
    # One's own channel choices: the page takes no user id, so each person reaches only theirs
    # (tests/mediation/test_notification_preferences.py).
    Row("notification_preferences", SIGNED_IN),
    Row("notification_preferences", SIGNED_IN, "POST", data=lambda w: {"sessions-email": "on"}),
    # An SMS's short link opens the notice for its recipient only (the plaintiff of case A).
    Row("notification_link", frozenset({"plaintiff"}), kwargs=lambda w: {"notification_id": w.notification.pk}),
    Row("api_my_rooms", SIGNED_IN),
    Row("api_my_cases", SIGNED_IN),
    Row("my_identity", SIGNED_IN),
    # -- the work-order desk ---------------------------------------------------------------------
    Row("desk", DESK),
    Row("work_order_intake", frozenset({"general_liaison"})),
    Row("figures", FIGURES),
    Row("figures_csv", FIGURES),
    Row("figures_xlsx", FIGURES),
    Row("figures_after_seal_csv", FIGURES),
    Row("figures_after_seal_xlsx", FIGURES),
    Row("work_order_detail", ORDER_VIEWERS, kwargs=order(Order.Status.IN_PROGRESS)),
    Row("work_order_action", frozenset({"general_liaison"}), "POST", variant="dispatch a received order",
        kwargs=lambda w: {**order(Order.Status.RECEIVED)(w), "action": "dispatch"},
        data=lambda w: {"dispatch-department": w.civil.pk, "dispatch-assignee": w.people["judge"].pk}),
    Row("work_order_action", ORDER_HANDLERS, "POST", variant="start",
        kwargs=lambda w: {**order(Order.Status.DISPATCHED)(w), "action": "start"}),
    Row("work_order_action", ORDER_HANDLERS, "POST", variant="reply",
        kwargs=lambda w: {**order(Order.Status.IN_PROGRESS)(w), "action": "reply"},
        data=lambda w: {"reply-content": "We called back.", "reply-channel": "phone"}),
    Row("work_order_action", ORDER_LIAISONS, "POST", variant="supervise",
        kwargs=lambda w: {**order(Order.Status.IN_PROGRESS)(w), "action": "supervise"},
        data=lambda w: {"supervise-content": "Answer today.", "supervise-due_at": "2099-01-01T09:00"}),
    Row("work_order_action", frozenset({"general_liaison", "judge"}), "POST", variant="refer to mediation",
        kwargs=lambda w: {**order(Order.Status.IN_PROGRESS)(w), "action": "refer_to_mediation"},
        data=lambda w: {"refer_to_mediation-mediator": w.people["mediator"].pk,
                        "refer_to_mediation-cause_of_action": "合同纠纷",
                        "refer_to_mediation-claim_amount": "1000",
                        "refer_to_mediation-facts": "Unpaid invoice."}),
    Row("work_order_action", frozenset({"general_liaison"}), "POST", variant="close",
        kwargs=lambda w: {**order(Order.Status.AWAITING_CONFIRMATION)(w), "action": "close"},
        data=lambda w: {"close-outcome": "Answered."}),
    Row("work_order_action", ORDER_LIAISONS, "POST", variant="return visit",
        kwargs=lambda w: {**order(Order.Status.CLOSED)(w), "action": "return_visit"},
        data=lambda w: {"return_visit-reached": "yes", "return_visit-resolved": "yes",
                        "return_visit-satisfaction": "satisfied"}),
    Row("answer_supervision_notice", ORDER_HANDLERS, "POST",
        kwargs=lambda w: {"number": w.notice.order.number, "notice_id": w.notice.pk},
        data=lambda w: {"answer-response": "Called back."}),
    Row("api_work_orders", frozenset({"general_liaison"}), "POST", json=True, data=lambda w: INTAKE),
    Row("api_work_order", ORDER_VIEWERS, kwargs=order(Order.Status.IN_PROGRESS)),
    Row("api_work_order_action", ORDER_HANDLERS, "POST", json=True, variant="reply",
        kwargs=lambda w: {**order(Order.Status.IN_PROGRESS)(w), "action": "reply"},
        data=lambda w: {"content": "We called back.", "channel": "phone"}),
    Row("api_work_order_stats", FIGURES, query={"from": 2024, "to": 2026}),
    Row("api_after_seal_stats", FIGURES, query={"from": 2024, "to": 2026}),
    # -- mediation figures (issue 20): the figures' readers; a mediator's page for themself
    # and the staff who supervise them (the mediator is of the filing division) --------------------
    Row("api_case_stats", FIGURES, query={"from": 2024, "to": 2026}),
    Row("figures_cases_csv", FIGURES),
    Row("figures_cases_xlsx", FIGURES),
    Row("mediator_assessment", FIGURES),
    Row("mediator_assessment_csv", FIGURES),
    Row("mediator_dashboard", frozenset({"mediator", "other_mediator"})),
    Row("mediator_dashboard_of", frozenset({"mediator", "general_liaison", "superuser"}),
        kwargs=lambda w: {"user_id": w.people["mediator"].pk}),
    # -- mediation cases (a party of case B never reaches case A) ----------------------------------
    Row("case_list", CASE_LIST),
    Row("case_new", frozenset({"mediator", "other_mediator"})),
    Row("case_detail", CASE_VIEWERS, kwargs=case_a),
    Row("case_action", frozenset({"mediator"}), "POST", variant="add a party",
        kwargs=lambda w: {**case_a(w), "action": "add_party"},
        data=lambda w: {"add_party-side": "plaintiff", "add_party-kind": "person", "add_party-name": "Zhou"}),
    # Correcting or removing a party: the mediator only (case A's agreement is locked,
    # so the mediator's answer is 409, the refusal of the state, not of the person).
    Row("case_action", frozenset({"mediator"}), "POST", variant="correct a party",
        kwargs=lambda w: {**case_a(w), "action": "edit_party"},
        data=lambda w: {"edit_party-party": w.case.defendant_participant.party_id, "edit_party-side": "defendant",
                        "edit_party-kind": "organisation", "edit_party-name": "Beijing Tech A (corrected)"}),
    Row("case_action", frozenset({"mediator"}), "POST", variant="remove a party",
        kwargs=lambda w: {**case_a(w), "action": "remove_party"},
        data=lambda w: {"remove_party-party": w.case.defendant_participant.party_id,
                        "remove_party-reason": "Added by mistake."}),
    Row("case_action", frozenset({"judge", "general_liaison"}), "POST", variant="extend the deadline",
        kwargs=lambda w: {**case_a(w), "action": "extend"},
        data=lambda w: {"extend-new_deadline": "2099-01-01", "extend-reason": "Both sides asked."}),
    Row("api_my_case", CASE_SIDES, kwargs=case_a),
    # The application for enforcement: the page for those with case files; a POST for a
    # party's people (refused by the state of case A with a message, not by the person).
    Row("case_enforcement", CASE_FILES, kwargs=case_a),
    Row("case_enforcement", frozenset({"plaintiff", "defendant"}), "POST", variant="apply", kwargs=case_a),
    # An in-person ID check (实名) of case A's participant: its mediator and judge, and
    # the general liaison; a party verifies neither themselves nor anyone else.
    Row("record_identity_check", IDENTITY_CHECKERS, "POST",
        kwargs=lambda w: {**case_a(w), "participant_id": w.case.defendant_participant.pk}),
    Row("identity_check_evidence", IDENTITY_CHECKERS, kwargs=lambda w: {"check_id": w.identity_check.pk}),
    # -- rooms: the joint room for all sides, each caucus for its side and the mediator ------------
    Row("room", JOINT_ROOM, kwargs=lambda w: {"room_id": w.case.joint.pk}, variant="joint"),
    Row("room", PLAINTIFF_CAUCUS, kwargs=lambda w: {"room_id": w.case.plaintiff_caucus.pk},
        variant="plaintiff's caucus"),
    Row("room", DEFENDANT_CAUCUS, kwargs=lambda w: {"room_id": w.case.defendant_caucus.pk},
        variant="defendant's caucus"),
    Row("api_room_history", JOINT_ROOM, kwargs=lambda w: {"room_id": w.case.joint.pk}, variant="joint"),
    Row("api_room_history", PLAINTIFF_CAUCUS, kwargs=lambda w: {"room_id": w.case.plaintiff_caucus.pk},
        variant="plaintiff's caucus"),
    Row("api_room_history", DEFENDANT_CAUCUS, kwargs=lambda w: {"room_id": w.case.defendant_caucus.pk},
        variant="defendant's caucus"),
    Row("room_control", frozenset({"mediator"}), "POST",
        kwargs=lambda w: {"room_id": w.case.plaintiff_caucus.pk, "action": "close"}),
    # -- a room's media (issue 21): its members; moderation, the case's mediator -----------------------
    Row("media_credential", JOINT_ROOM, "POST", kwargs=lambda w: {"room_id": w.case.joint.pk}, variant="joint"),
    Row("media_credential", PLAINTIFF_CAUCUS, "POST", kwargs=lambda w: {"room_id": w.case.plaintiff_caucus.pk},
        variant="plaintiff's caucus"),
    Row("media_credential", DEFENDANT_CAUCUS, "POST", kwargs=lambda w: {"room_id": w.case.defendant_caucus.pk},
        variant="defendant's caucus"),
    Row("media_people", JOINT_ROOM, kwargs=lambda w: {"room_id": w.case.joint.pk}, variant="joint"),
    Row("media_people", PLAINTIFF_CAUCUS, kwargs=lambda w: {"room_id": w.case.plaintiff_caucus.pk},
        variant="plaintiff's caucus"),
    *[
        Row(f"media_{action}", frozenset({"mediator"}), "POST", kwargs=lambda w: {"room_id": w.case.joint.pk},
            data=lambda w: {"user": w.case.defendant.pk})
        for action in ("mute", "unmute", "remove", "readmit")
    ],
    # -- documents: each visible to its side, case-wide ones to all sides --------------------------
    Row("case_documents", CASE_FILES, kwargs=case_a),
    Row("document_file", CASE_SIDES, kwargs=lambda w: {"document_id": w.documents["case"].pk},
        variant="case-wide"),
    Row("document_file", frozenset({"mediator", "plaintiff"}),
        kwargs=lambda w: {"document_id": w.documents["plaintiff"].pk}, variant="plaintiff's side only"),
    Row("document_file", frozenset({"mediator", "defendant"}),
        kwargs=lambda w: {"document_id": w.documents["defendant"].pk}, variant="defendant's side only"),
    Row("document_upload", CASE_FILES, "POST", kwargs=case_a),
    Row("service_new", CASE_FILES, "POST", kwargs=case_a),
    Row("service_consent", CASE_FILES, "POST", kwargs=case_a),
    Row("service_detail", CASE_SIDES, kwargs=lambda w: {"service_id": w.service.pk}, variant="case-wide documents"),
    Row("service_detail", frozenset({"mediator", "judge", "defendant"}),
        kwargs=lambda w: {"service_id": w.private_service.pk}, variant="defendant's own documents"),
    # Only the person served acknowledges; the others who follow the service are refused.
    Row("service_action", frozenset({"defendant"}), "POST",
        kwargs=lambda w: {"service_id": w.service.pk, "action": "acknowledge"}),
    Row("service_proof", CASE_SIDES, kwargs=lambda w: {"service_id": w.service.pk}),
    # -- the settlement agreement --------------------------------------------------------------------
    Row("agreement_for_case", CASE_FILES, kwargs=case_a),
    Row("agreement_detail", CASE_SIDES, kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("agreement_edit", frozenset({"mediator"}), kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("agreement_preview", CASE_SIDES, kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("agreement_lock", frozenset({"mediator"}), "POST", kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("agreement_decline", frozenset({"plaintiff", "defendant"}), "POST",
        kwargs=lambda w: {"agreement_id": w.agreement.pk}, data=lambda w: {"reason": "The amount is wrong."}),
    Row("agreement_sign", CASE_SIDES, kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("agreement_pdf", CASE_SIDES, kwargs=lambda w: {"agreement_id": w.agreement.pk, "which": "current"}),
    # -- performance of the agreed terms: the page for who may read the case; each action for
    # its side only (the defendant owes case A's term to the plaintiff), the mediator urges ------------
    Row("case_performance", CASE_VIEWERS, kwargs=case_a),
    Row("obligation_action", frozenset({"defendant"}), "POST", variant="report",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "report"},
        data=lambda w: {f"o{w.obligation.pk}-performed_on": timezone.localdate().isoformat()}),
    Row("obligation_action", frozenset({"plaintiff"}), "POST", variant="confirm",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "confirm"}),
    Row("obligation_action", frozenset({"plaintiff"}), "POST", variant="dispute",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "dispute"},
        data=lambda w: {f"o{w.obligation.pk}-reason": "没有收到"}),
    Row("obligation_action", frozenset({"mediator"}), "POST", variant="urge",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "urge"},
        data=lambda w: {f"o{w.obligation.pk}-note": "电话督促"}),
    Row("api_obligation_action", frozenset({"defendant"}), "POST", json=True, variant="report_performed",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "report_performed"},
        data=lambda w: {"performed_on": timezone.localdate().isoformat()}),
    Row("api_obligation_action", frozenset({"plaintiff"}), "POST", json=True, variant="confirm",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "confirm"}),
    Row("api_obligation_action", frozenset({"mediator"}), "POST", json=True, variant="urge",
        kwargs=lambda w: {"obligation_id": w.obligation.pk, "action": "urge"}, data=lambda w: {"note": "电话督促"}),
    # -- court documents and judicial confirmation ----------------------------------------------------
    Row("verify_record", EVERYONE, kwargs=lambda w: {"code": w.court_document.verification_code},
        variant="court document"),
    Row("court_document_sign", CASE_FILES, kwargs=lambda w: {"document_id": w.court_document.pk}),
    # A document with no place left to sign: nobody signs it.
    Row("court_document_sign", NOBODY, "POST", kwargs=lambda w: {"document_id": w.court_document.pk},
        variant="nothing to sign"),
    Row("court_document_pdf", CASE_FILES, kwargs=lambda w: {"document_id": w.court_document.pk, "which": "latest"}),
    # Delegation (tests/mediation/test_delegation.py holds its rights against organisation
    # admins and roster mediators, who are not in this world): the queue is for
    # organisation admins only; nobody here dispatches or reads a letter of a delegation
    # of theirs.
    Row("delegation_queue", frozenset({"organisation_admin"})),
    Row("delegation_dispatch", NOBODY, "POST", kwargs=lambda w: {"delegation_id": 1}),
    Row("delegation_letter_pdf", NOBODY, kwargs=lambda w: {"delegation_id": 1}),
    Row("filing_package_pdf", FILING_PACKAGE_READERS, kwargs=lambda w: {"case_id": w.failed_case.pk}),
    Row("filing_package_json", FILING_PACKAGE_READERS, kwargs=lambda w: {"case_id": w.failed_case.pk}),
    # The parties (an agent with special authority only: the plaintiff's has none) and the mediator apply.
    Row("confirmation_apply", frozenset({"mediator", "defendant"}), "POST",
        kwargs=lambda w: {"agreement_id": w.agreement.pk}),
    Row("confirmation_withdraw", frozenset({"defendant"}), "POST",
        kwargs=lambda w: {"confirmation_id": w.confirmation.pk}, data=lambda w: {"reason": "Settled otherwise."}),
    # The court's side (the world's application is still being signed: the judge's
    # actions answer 409, not a refusal of the person).
    Row("confirmation_queue", frozenset({"judge", "other_judge", "department_head"})),
    Row("confirmation_detail", frozenset({"judge", "department_head"}),
        kwargs=lambda w: {"confirmation_id": w.confirmation.pk}),
    Row("confirmation_action", frozenset({"judge"}), "POST", variant="accept",
        kwargs=lambda w: {"confirmation_id": w.confirmation.pk, "action": "accept"}),
    Row("confirmation_action", frozenset({"department_head"}), "POST", variant="assign",
        kwargs=lambda w: {"confirmation_id": w.confirmation.pk, "action": "assign"},
        data=lambda w: {"judge": w.people["other_judge"].pk}),
    Row("resume_after_rejection", frozenset({"mediator"}), "POST", kwargs=case_a),
    # -- powers of attorney: the agent's side and the court's; the mediator checks ---------------------
    Row("powers_of_attorney", CASE_FILES, kwargs=case_a),
    Row("power_of_attorney_upload", frozenset({"mediator", "plaintiff"}), "POST", kwargs=case_a,
        data=lambda w: {"participant": w.case.plaintiff_participant.pk}),
    Row("power_of_attorney_detail", frozenset({"mediator", "judge", "plaintiff"}),
        kwargs=lambda w: {"power_id": w.submitted_power.pk}, variant="waiting for the check"),
    Row("power_of_attorney_detail", frozenset({"mediator", "judge", "plaintiff"}),
        kwargs=lambda w: {"power_id": w.rejected_power.pk}, variant="rejected, with the reason"),
    Row("power_of_attorney_file", frozenset({"mediator", "judge", "plaintiff"}),
        kwargs=lambda w: {"power_id": w.submitted_power.pk}),
    Row("power_of_attorney_check", frozenset({"mediator"}), "POST", variant="accept",
        kwargs=lambda w: {"power_id": w.submitted_power.pk, "action": "accept"},
        data=lambda w: {"may_settle": "on", "may_sign_agreement": "on"}),
    Row("power_of_attorney_check", frozenset({"mediator"}), "POST", variant="reject",
        kwargs=lambda w: {"power_id": w.submitted_power.pk, "action": "reject"},
        data=lambda w: {"reason": "Not signed."}),
    # -- acts done in person (part offline): the mediator records, the judge or the general liaison
    # confirms; the defendant's consent is their side's and the court's ------------------------------
    Row("in_person_acts", IN_PERSON_READERS, kwargs=case_a),
    Row("in_person_record", frozenset({"mediator"}), "POST", kwargs=case_a),
    Row("in_person_confirm", frozenset({"general_liaison", "judge"}), "POST",
        kwargs=lambda w: {"act_id": w.in_person_act.pk}),
    Row("in_person_withdraw", frozenset({"mediator"}), "POST", kwargs=lambda w: {"act_id": w.in_person_act.pk}),
    Row("in_person_scan", IN_PERSON_READERS, kwargs=lambda w: {"act_id": w.in_person_act.pk}),
    # -- the operator ----------------------------------------------------------------------------------
    Row("admin:index", frozenset({"superuser"})),
    # -- signing in by mobile number (allauth's pages, on the platform's codes) -----------------------
    Row("account_request_login_code", EVERYONE),
    # One's own number only: the page has no id in it, and a stranger is sent to sign in.
    Row("account_change_phone", SIGNED_IN),
    Row("account_change_phone", SIGNED_IN, "POST", data=lambda w: {"phone": "not a number"}, variant="bad number"),
    # -- the roster (issue 20) ------------------------------------------------------------------------
    # The public roster: no sign-in.
    Row("public_roster", EVERYONE),
    Row("public_roster", EVERYONE, query={"cause": "劳动争议", "region": "nowhere"}, variant="a bad filter"),
    Row("organisation_list", ROSTER_VIEWERS),
    Row("organisation_detail", ROSTER_VIEWERS, kwargs=own_organisation, variant="the admin's own"),
    Row("organisation_detail", ROSTER_COURT, kwargs=other_organisation, variant="another organisation"),
    Row("organisation_new", ROSTER_MANAGERS),
    Row("organisation_new", ROSTER_MANAGERS, "POST", data=lambda w: {"name": ""}, variant="incomplete"),
    Row("organisation_edit", ROSTER_MANAGERS, kwargs=own_organisation),
    Row("organisation_edit", ROSTER_MANAGERS, "POST", kwargs=own_organisation, data=lambda w: {"name": ""},
        variant="incomplete"),
    Row("organisation_admins", ROSTER_MANAGERS, "POST", kwargs=own_organisation,
        data=lambda w: {"action": "remove", "user": w.people["organisation_admin"].pk}, variant="remove"),
    Row("mediator_appoint", ROSTER_MANAGERS, kwargs=own_organisation),
    Row("mediator_appointment_edit", ROSTER_MANAGERS, kwargs=own_profile),
    Row("mediator_appointment_edit", ROSTER_MANAGERS, "POST", kwargs=own_profile,
        data=lambda w: {"status": "dismissed"}, variant="incomplete"),
    Row("mediator_profile_edit", ROSTER_PROFILE_EDITORS, kwargs=own_profile, variant="the admin's own"),
    Row("mediator_profile_edit", ROSTER_PROFILE_EDITORS, "POST", kwargs=own_profile,
        data=lambda w: {"title": "Retired judge", "is_published": "on"}, variant="the admin's own"),
    Row("mediator_profile_edit", ROSTER_MANAGERS, kwargs=other_profile, variant="another organisation's"),
    Row("mediator_profile_edit", ROSTER_MANAGERS, "POST", kwargs=other_profile,
        data=lambda w: {"title": "Changed"}, variant="another organisation's"),
]
# fmt: on

# Routes left out, with the reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django's admin guards its own pages (is_staff); its front page is in the table",
    "accounts/": "allauth's own pages: sign-in, sign-up (closed by the adapter), password and 2FA, "
    "each public by design or guarded by allauth's login_required",
}


# The world --------------------------------------------------------------------------------------------


# The matrix ---------------------------------------------------------------------------------------------

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    assert status != 405, "the table names the wrong method"
    if status in (401, 403, 404):
        return "refused"
    if status == 302 and response["Location"].split("?")[0].endswith(LOGIN_PATHS):
        return "refused"
    return "allowed"


def url_of(row: Row, court) -> str:
    return row.path or reverse(row.name, kwargs=row.kwargs(court))


def request(client, row: Row, court):
    url = url_of(row, court)
    if row.method == "GET":
        return client.get(url, row.query)
    if row.json:
        return client.post(url, row.data(court), content_type="application/json")
    return client.post(url, row.data(court))


def outcomes_of(row: Row, court) -> dict[str, tuple[str, int]]:
    """role -> (outcome, status) of the row's request, each made in a savepoint that is
    rolled back, by a fresh client signed in as that role."""
    results = {}
    for role in ROLES:
        with transaction.atomic():
            client = Client()
            if role != "anonymous":
                client.force_login(court.people[role])
            response = request(client, row, court)
            results[role] = (outcome(response), response.status_code)
            transaction.set_rollback(True)
    return results


@pytest.mark.django_db
@pytest.mark.parametrize("row", RIGHTS, ids=lambda row: row.label)
def test_only_the_intended_roles_reach_each_url(court, row, request):
    if row.name == "media_credential":
        # A credential is issued for a room whose media a live Janus holds.
        request.getfixturevalue("janus")
    results = outcomes_of(row, court)
    allowed = {role for role, (got, _status) in results.items() if got == "allowed"}
    table = ", ".join(f"{role}={status}" for role, (_got, status) in results.items())
    assert allowed == set(row.allowed), (
        f"{row.label}: let in {sorted(allowed - row.allowed)}, kept out {sorted(row.allowed - allowed)} ({table})"
    )
    if row.method == "GET":
        assert all(results[role][1] in (200, 302) for role in allowed), table


def named_routes() -> dict[str, str]:
    """route -> qualified name, for every named pattern of the URL conf."""
    found = {}

    def walk(resolver, prefix="", namespace=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
                walk(pattern, prefix + str(pattern.pattern), inner or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found[prefix + str(pattern.pattern)] = name

    walk(get_resolver())
    return found


@pytest.mark.django_db
def test_the_table_covers_every_named_url(court):
    routes = named_routes()
    covered = {resolve(url_of(row, court).split("?")[0]).route for row in RIGHTS}
    missing = {
        route: name
        for route, name in routes.items()
        if route not in covered and not route.startswith(tuple(EXCLUDED_PREFIXES))
    }
    assert not missing, f"add these to RIGHTS (or to EXCLUDED_PREFIXES with a reason): {missing}"
    assert "admin/" in covered


@pytest.mark.django_db
def test_opening_a_notification_marks_only_ones_own(client, court):
    notification = court.notification
    for role in ROLES[1:]:
        if court.people[role] == notification.recipient:
            continue
        client.force_login(court.people[role])
        client.post(reverse("notification_open", args=[notification.pk]))
    assert Notification.objects.get(pk=notification.pk).read_at is None

    client.force_login(notification.recipient)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == notification.url
    assert Notification.objects.get(pk=notification.pk).read_at is not None
