"""Who signs a settlement agreement, in which place, and when: one rule that the
agreement's page and the signing service both ask.

Each signer signs in a slot of the locked version: the mediator's (`MEDIATOR_SLOT`,
which certifies the document) and one per party, signed by a participant who
represents that party. The mediator signs first; each slot is signed once. An
agent (a lawyer) signs for their party only with special authority to settle
(特别授权): a power of attorney the mediator has checked, covering settling and
signing, not expired (`signing_authority_refusal`). A guardian (法定代理人) signs for
the natural person they act for; an interpreter and a helper sign for nobody
(`mediation.participation.acting_refusal`). Third parties (第三人) sign in a place of
their own like the parties of either side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from documents.models import Agreement, PowerOfAttorney
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, Participant, ParticipantRole, Party, User, side_label
from mediation.participation import acting_refusal

MEDIATOR_SLOT = "mediator"


def party_slot(party: Party) -> str:
    return f"party-{party.pk}"


def designation(side: str, name: str) -> str:
    """A party as the agreement and its pages name it: 原告：上海星河文化传媒有限公司."""
    return _("%(side)s: %(name)s") % {"side": side_label(side), "name": name}


def party_designation(party: Party) -> str:
    return designation(party.side, party.name)


def required_slots(case: MediationCase) -> list[dict]:
    """Who must sign: the mediator first (certification), then every party. A slot
    keeps who signs there (side and name), not a sentence: `labelled_slots` words it
    for each reader, and for the PDF in the document's language."""
    slots = [{"slot": MEDIATOR_SLOT, "party": None, "side": "", "name": str(case.mediator)}]
    for party in case.parties.all():
        slots.append({"slot": party_slot(party), "party": party.pk, "side": party.side, "name": party.name})
    return slots


def slot_label(entry: dict) -> str:
    """A signature place as the active language words it: "Mediator: Liu Yang"."""
    if entry["slot"] == MEDIATOR_SLOT:
        return _("Mediator: %(name)s") % {"name": entry["name"]}
    return designation(entry["side"], entry["name"])


def labelled_slots(slots: list[dict], content: dict) -> list[dict]:
    """The slots with their label in the active language. Slots locked before they
    kept their side and name (they kept a label in the document's language) take them
    from the version's content, which snapshots the parties and the mediator."""
    parties = {party["id"]: party for party in content.get("parties", [])}
    labelled = []
    for entry in slots:
        entry = dict(entry)
        if "name" not in entry:
            if entry["slot"] == MEDIATOR_SLOT:
                entry.update(side="", name=content.get("mediator", ""))
            else:
                party = parties.get(entry["party"], {})
                entry.update(side=party.get("side", ""), name=party.get("name", ""))
        entry["label"] = slot_label(entry)
        labelled.append(entry)
    return labelled


class NoAuthorityToSign(ActionForbidden):
    """An agent who may not sign for their party (yet): why, as a code and a message."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def about_power_of_attorney(self) -> bool:
        """Whether a power of attorney would cure it (an agent's), so that the pages
        point to the powers of attorney; an interpreter's or a helper's is final."""
        return "power_of_attorney" in self.code


def special_authority(participant: Participant, today: dt.date | None = None) -> PowerOfAttorney | None:
    """The power of attorney under which this agent may settle and sign: checked by
    the mediator, its scope covering settling and signing, not expired. None if they
    have none such."""
    today = today or timezone.localdate()
    for power in participant.powers_of_attorney.filter(status=PowerOfAttorney.Status.ACCEPTED):
        if power.gives_authority_to_settle and not power.has_expired(today):
            return power
    return None


def signing_authority_refusal(participant: Participant, today: dt.date | None = None) -> NoAuthorityToSign | None:
    """Why this participant may not sign for their party, or None if they may. The
    party in person, a legal representative and a natural person's guardian sign by
    their standing; an agent only under special authority (`special_authority`); an
    interpreter and a helper never (`acting_refusal`). The one rule the signing
    service, the agreement's pages, the court documents, the application for
    confirmation, the API and the to-do list ask."""
    by_role = acting_refusal(participant)
    if by_role is not None:
        return NoAuthorityToSign(by_role.message, code=by_role.code)
    if participant.role != ParticipantRole.AGENT:
        return None
    today = today or timezone.localdate()
    if special_authority(participant, today) is not None:
        return None
    latest = participant.powers_of_attorney.order_by("-uploaded_at", "-pk").first()
    if latest is None:
        return NoAuthorityToSign(
            _(
                "You act as an agent: you can sign once the mediator has checked your power of attorney with "
                "special authority to settle. Upload it first."
            ),
            code="no_power_of_attorney",
        )
    if latest.status == PowerOfAttorney.Status.SUBMITTED:
        return NoAuthorityToSign(
            _("Your power of attorney has not been checked yet: you can sign once the mediator has checked it."),
            code="power_of_attorney_unchecked",
        )
    if latest.status == PowerOfAttorney.Status.REJECTED:
        return NoAuthorityToSign(
            _("The mediator rejected your power of attorney: upload a new one before you sign."),
            code="power_of_attorney_rejected",
        )
    if not latest.gives_authority_to_settle:
        return NoAuthorityToSign(
            _("Your power of attorney does not give you authority to settle and sign the agreement."),
            code="power_of_attorney_scope",
        )
    return NoAuthorityToSign(
        _("Your power of attorney expired on %(date)s: upload a new one before you sign.")
        % {"date": formats.date_format(latest.valid_until, "DATE_FORMAT")},
        code="power_of_attorney_expired",
    )


def signer_slot(agreement: Agreement, actor: User, party: Party | None) -> tuple[str, str]:
    """The slot this person signs, and in which role; refused for a party they do not
    represent, for no party when they are not the case's mediator, and for an agent
    without special authority to settle."""
    case = agreement.case
    if party is None:
        if case.mediator_id != actor.pk:
            raise ActionForbidden(_("Choose the party you sign for."))
        return MEDIATOR_SLOT, "mediator"
    participant = Participant.active.filter(case=case, user=actor, party=party).first()
    if participant is None:
        raise ActionForbidden(_("You do not represent %(party)s in this case.") % {"party": party.name})
    refusal = signing_authority_refusal(participant)
    if refusal is not None:
        raise refusal
    return party_slot(party), participant.role


def slot_refusal(*, slot: str, signer_slots: set[str], signed: set[str]) -> TransitionNotAllowed | None:
    """Why `slot` cannot be signed now on a version waiting for signatures whose
    signers are `signer_slots` and whose slots `signed` are signed; None if it can."""
    if slot not in signer_slots:
        return TransitionNotAllowed(_("This party is not a signer of this version."))
    if slot in signed:
        return TransitionNotAllowed(_("This agreement has already been signed here."), code="already_signed")
    if slot != MEDIATOR_SLOT and MEDIATOR_SLOT not in signed:
        return TransitionNotAllowed(
            _("The mediator signs first; you will be told when you can sign."), code="mediator_first"
        )
    return None


def slots_opened_by(*, slot: str, signer_slots: set[str], signed: set[str]) -> set[str]:
    """The places that signing `slot` (on top of `signed`) lets be signed now and that
    could not be before: whose signers' turn it is once `slot` is signed."""
    after = signed | {slot}
    return {
        other
        for other in signer_slots - after
        if slot_refusal(slot=other, signer_slots=signer_slots, signed=signed) is not None
        and slot_refusal(slot=other, signer_slots=signer_slots, signed=after) is None
    }


def signers_of_slot(case: MediationCase, slot: str) -> list[User]:
    """Who signs in `slot`: the mediator in theirs, the active participants who
    represent the party in a party's and may sign for it (`signing_authority_refusal`)."""
    if slot == MEDIATOR_SLOT:
        return [case.mediator]
    for party in case.parties.all():
        if party_slot(party) == slot:
            return [
                p.user
                for p in Participant.active.filter(case=case, party=party).select_related("user")
                if signing_authority_refusal(p) is None
            ]
    return []


def agents_without_authority(agreement: Agreement, signed: set[str]) -> list[Participant]:
    """The agents of the parties still to sign on the current version who may not
    sign for lack of special authority (`signing_authority_refusal`): for the
    mediator, who checks their powers of attorney."""
    if not agreement.is_waiting_for_signatures:
        return []
    waiting = signer_slots_of(agreement) - signed
    agents = Participant.active.filter(case=agreement.case, role=ParticipantRole.AGENT).select_related("party", "user")
    return [
        agent for agent in agents if party_slot(agent.party) in waiting and signing_authority_refusal(agent) is not None
    ]


def signer_slots_of(agreement: Agreement) -> set[str]:
    return {entry["slot"] for entry in agreement.current_version.signature_slots}


@dataclass(frozen=True)
class SigningOptions:
    """What one person may sign on the agreement's current version, for its page."""

    # The places still to sign that are theirs: None for the mediator's, else the party.
    can_sign_for: list[Party | None] = field(default_factory=list)
    # They may sign one of them now.
    may_sign: bool = False
    # Theirs are waiting for the mediator's signature.
    waiting_for_mediator: bool = False
    # Why they may not sign places still to sign that are theirs by representation
    # (an agent without special authority to settle): the refusals, one per place.
    refusals: list[NoAuthorityToSign] = field(default_factory=list)


def signing_options(agreement: Agreement, user: User, signed: set[str]) -> SigningOptions:
    """The places `user` signs on the agreement's current version, given the slots
    `signed` so far, and whether the rule above lets them sign one now."""
    if not agreement.is_waiting_for_signatures:
        return SigningOptions()
    signer_slots = signer_slots_of(agreement)
    mine: list[tuple[str, Party | None]] = []
    without_authority: list[NoAuthorityToSign] = []
    if agreement.case.mediator_id == user.pk:
        mine.append((MEDIATOR_SLOT, None))
    for participant in Participant.active.filter(case=agreement.case, user=user).select_related("party"):
        slot = party_slot(participant.party)
        if slot not in signer_slots or slot in signed:
            continue
        refusal = signing_authority_refusal(participant)
        if refusal is not None:
            without_authority.append(refusal)
            continue
        mine.append((slot, participant.party))
    refusals = {slot: slot_refusal(slot=slot, signer_slots=signer_slots, signed=signed) for slot, _ in mine}
    codes = {slot: refusal.code if refusal else None for slot, refusal in refusals.items()}
    # Still to sign: signable now, or once the mediator has signed.
    to_sign = [(slot, party) for slot, party in mine if codes[slot] in (None, "mediator_first")]
    return SigningOptions(
        can_sign_for=[party for _, party in to_sign],
        may_sign=any(codes[slot] is None for slot, _ in to_sign),
        waiting_for_mediator=any(codes[slot] == "mediator_first" for slot, _ in to_sign),
        refusals=without_authority,
    )
