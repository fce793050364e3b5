"""The next step of a case, as its page hints it to each reader: what the mediator
should do now ("Invite the defendant", "Sign the agreement"). A party's people get
no hint: their to-do list (documents.todo) is what they should do next, one rule for
it.

A read, computed from the same state the case's actions use: the case's status and
`MediationCase.allows` (mediation.actions.cases offers its buttons by them), its
parties, participants and open invitations, its sessions (the session steps of
mediation.selectors.cases), the service of documents and the agreement with its
signing rule (documents.agreement_rules). It lives here, in the app built on both
mediation and documents, so that mediation never imports documents.

A hint is a code and its parameters (`NextStep`), worded in the reader's language
when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from documents.agreement_rules import MEDIATOR_SLOT
from documents.models import Agreement, PowerOfAttorney, Service
from documents.selectors import latest_agreement, signed_slots
from mediation import policy
from mediation.models import MediationCase, Participant, Side, User
from mediation.selectors.cases import open_invitations, sessions_open_to

TEXTS = {
    # The mediator's.
    "add_parties": _("Add the plaintiff and the defendant."),
    "add_plaintiff": _("Add the plaintiff."),
    "add_defendant": _("Add the defendant."),
    "invite_plaintiff": _("Invite the plaintiff: create an invitation link and send it."),
    "invite_defendant": _("Invite the defendant: create an invitation link and send it."),
    "await_plaintiff": _("Waiting for the plaintiff to accept the invitation."),
    "await_defendant": _("Waiting for the defendant to accept the invitation."),
    "serve_complaint": _("Serve the complaint on the defendant (Documents and service)."),
    "await_acknowledgement": _("Waiting for the defendant to acknowledge the served documents."),
    "schedule_session": _("Schedule a mediation session."),
    "start_session": _("Start the scheduled session when it is time."),
    "end_session": _("A session is under way: end it when the parties have spoken."),
    "check_power_of_attorney": _(
        "Check the power of attorney an agent uploaded and record its scope: they sign only with special authority "
        "to settle."
    ),
    "draft_agreement": _("Draft the settlement agreement once the parties agree."),
    "lock_agreement": _("Finish the draft agreement and lock it for signing."),
    "sign_agreement": _("Sign the settlement agreement: you sign first."),
    "await_signatures": _("Waiting for %(parties)s to sign the settlement agreement."),
    "file_case": _("Mediation failed: file the dispute as an ordinary case if the plaintiff asks."),
    # Everyone's.
    "settled": _("The case is settled: the sealed agreement is on its page."),
    "closed": _("The case is closed: nothing more to do."),
}


@dataclass(frozen=True)
class NextStep:
    code: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(TEXTS[self.code]) % self.params if self.params else str(TEXTS[self.code])


def next_step(case: MediationCase, user: User) -> NextStep | None:
    """The hint for this reader of the case's page; None when there is none for them
    (the judge, a liaison, and a party's people, whose to-do list says it)."""
    if Participant.active.filter(case=case, user=user).exists():
        return None
    if case.status == MediationCase.Status.SETTLED:
        return NextStep("settled")
    if policy.can_on_case(user, "manage", case):
        return _mediators_step(case)
    return None


def _mediators_step(case: MediationCase) -> NextStep:
    if case.allows("transfer_to_filing"):
        return NextStep("closed") if case.filed_case_number else NextStep("file_case")
    if not case.is_open:
        return NextStep("closed")
    sides = set(case.parties.values_list("side", flat=True))
    if not sides:
        return NextStep("add_parties")
    for side in (Side.PLAINTIFF, Side.DEFENDANT):
        if side not in sides:
            return NextStep(f"add_{side}")
    joined = set(Participant.active.filter(case=case).values_list("party__side", flat=True))
    for side in (Side.PLAINTIFF, Side.DEFENDANT):
        if side not in joined:
            invited = open_invitations(case).filter(party__side=side).exists()
            return NextStep(f"await_{side}" if invited else f"invite_{side}")
    unchecked = PowerOfAttorney.objects.filter(
        participant__case=case, participant__removed_at__isnull=True, status=PowerOfAttorney.Status.SUBMITTED
    )
    if unchecked.exists():
        return NextStep("check_power_of_attorney")
    agreement = latest_agreement(case)
    if agreement is not None:
        return _agreement_step(case, agreement)
    on_defendant = Service.objects.filter(
        case=case, recipient__participations__case=case, recipient__participations__party__side=Side.DEFENDANT
    )
    if not on_defendant.exists():
        return NextStep("serve_complaint")
    # Served through the platform and not yet acknowledged (service by post or in
    # person stays "delivered": nothing to wait for on the platform).
    electronic = on_defendant.filter(method=Service.Method.ELECTRONIC)
    if electronic.exists() and not electronic.exclude(status__in=Service.AWAITING_RECIPIENT).exists():
        return NextStep("await_acknowledgement")
    if sessions_open_to(case, "end").exists():
        return NextStep("end_session")
    if sessions_open_to(case, "start").exists():
        return NextStep("start_session")
    if not case.sessions.filter(ended_at__isnull=False).exists():
        return NextStep("schedule_session")
    return NextStep("draft_agreement")


def _agreement_step(case: MediationCase, agreement: Agreement) -> NextStep:
    if agreement.status == Agreement.Status.DRAFT:
        return NextStep("lock_agreement")
    if agreement.is_sealed:
        return NextStep("settled")
    signed = signed_slots(agreement.current_version)
    if MEDIATOR_SLOT not in signed:
        return NextStep("sign_agreement")
    names = dict(case.parties.values_list("pk", "name"))
    waiting = [
        names.get(entry["party"], "")
        for entry in agreement.current_version.signature_slots
        if entry["slot"] not in signed and entry["party"] is not None
    ]
    return NextStep("await_signatures", {"parties": ", ".join(waiting)})
