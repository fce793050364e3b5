"""A mediation case with people on both sides, built through the services."""

import datetime as dt
import io
from dataclasses import dataclass

from django.db import transaction

from mediation.models import MediationCase, Participant, RoomKind, User
from mediation.services import cases
from rooms.models import Room
from tests.factories import DepartmentFactory, UserFactory, staff


@dataclass
class CaseWorld:
    case: MediationCase
    mediator: User
    judge: User
    plaintiff: User
    defendant: User
    plaintiff_participant: Participant
    defendant_participant: Participant
    # Loaded up front, so that async tests need no query to name a room.
    joint: Room
    plaintiff_caucus: Room
    defendant_caucus: Room


@transaction.atomic
def make_case(
    mediator: User, judge: User | None = None, *, label: str = "A", agent_authority: bool = False
) -> CaseWorld:
    """The case, its parties and their people: the plaintiff's agent and the
    defendant's legal representative. With `agent_authority`, the agent has a checked
    power of attorney with special authority to settle and sign
    (`grant_special_authority`), as an agent who signs the agreement needs."""
    case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", claim_amount=500000, judge=judge)
    plaintiff_party = cases.add_party(
        case=case, actor=mediator, side="plaintiff", kind="organisation", name=f"Shanghai Culture Media {label}"
    )
    defendant_party = cases.add_party(
        case=case, actor=mediator, side="defendant", kind="organisation", name=f"Beijing Tech {label}"
    )
    plaintiff = UserFactory(full_name=f"Plaintiff agent {label}")
    defendant = UserFactory(full_name=f"Defendant representative {label}")
    plaintiff_participant = cases.attach_participant(
        case=case, party=plaintiff_party, user=plaintiff, role="agent", actor=mediator
    )
    defendant_participant = cases.attach_participant(
        case=case, party=defendant_party, user=defendant, role="legal_representative", actor=mediator
    )
    if agent_authority:
        grant_special_authority(plaintiff_participant)
    rooms = {room.kind: room for room in Room.objects.filter(case=case).select_related("case")}
    return CaseWorld(
        joint=rooms[RoomKind.JOINT],
        plaintiff_caucus=rooms[RoomKind.CAUCUS_PLAINTIFF],
        defendant_caucus=rooms[RoomKind.CAUCUS_DEFENDANT],
        case=MediationCase.objects.get(pk=case.pk),
        mediator=mediator,
        judge=judge,
        plaintiff=plaintiff,
        defendant=defendant,
        plaintiff_participant=plaintiff_participant,
        defendant_participant=defendant_participant,
    )


def make_civil_case() -> CaseWorld:
    """The rooms' usual case: a civil department's mediator and judge, and both sides."""
    from mediation.roles import Role

    department = DepartmentFactory(name="Civil", code="civil")
    mediator = staff(Role.MEDIATOR, department, full_name="Liu Yang")
    judge = staff(Role.JUDGE, department, full_name="Zhang Wei")
    return make_case(mediator, judge)


def accept_by_text(raw_token: str, *, user: User | None = None, id_number: str = ""):
    """Accept an invitation as its invited person does: a code texted to the invited
    number (read from the test transport), and the party's ID number where asked."""
    import re

    from mediation.services.invitations import accept_invitation, send_invitation_code
    from mediation.sms import deliver
    from mediation.sms.backends import locmem

    invitation = send_invitation_code(raw_token=raw_token, user=user)
    deliver()
    [message] = [each for each in locmem.outbox if each.to == str(invitation.phone)][-1:]
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)
    return accept_invitation(raw_token=raw_token, code=code, id_number=id_number, user=user)


def power_of_attorney_pdf(title: str = "授权委托书") -> bytes:
    """A one-page PDF standing for a signed power of attorney."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def grant_special_authority(
    participant: Participant,
    *,
    may_change_claims: bool = True,
    may_settle: bool = True,
    may_sign_agreement: bool = True,
    valid_until: dt.date | None = None,
):
    """An agent's power of attorney, uploaded by them and checked by the case's
    mediator, with special authority to settle and sign unless told otherwise: what
    an agent needs to sign the settlement agreement (documents.agreement_rules)."""
    from documents.services.powers_of_attorney import accept_power_of_attorney, submit_power_of_attorney

    with transaction.atomic():
        power = submit_power_of_attorney(
            participant=participant,
            actor=participant.user,
            data=power_of_attorney_pdf(),
            filename="授权委托书.pdf",
        )
        return accept_power_of_attorney(
            power=power,
            actor=participant.case.mediator,
            may_change_claims=may_change_claims,
            may_settle=may_settle,
            may_sign_agreement=may_sign_agreement,
            valid_until=valid_until,
        )
