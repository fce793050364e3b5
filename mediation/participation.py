"""Who takes part in a case, on which side, and who may be in which of its rooms: the
one rule, which rooms (membership, lists, pages, the socket), sessions (who is told)
and documents (who sees what) all call.

A user's standing in a case is one of:

- "mediator": the case's mediator; in every room of the case;
- "plaintiff" / "defendant": an active participant (not removed) for a party of that
  side; in the joint room and their own side's caucus;
- "third": an active participant for a third party (第三人), who is neither side: in
  the joint room only, for there is no third party's caucus;
- "judge": the case's judge; in the joint room only;
- None: anyone else (court staff of other cases, the general liaison, a removed
  participant, a party of another case, a stranger); in no room of the case.

A person takes part for one side only, and the case's mediator and judge for none
(`mediation.services.cases.attach_participant`); should one account still hold two
standings, the first of mediator, side, judge counts, which gives them no room and no
document that one of their standings does not.

The store (rooms.store) states the same rule in SQL, and in Python for SQLite, for
speed: tests/rooms/test_participation_rule.py checks every implementation against one
table of rows.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from mediation.errors import ActionForbidden
from mediation.models import MediationCase, Participant, Party, User
from mediation.models.cases import SIGNS_NOTHING, ParticipantRole, RoomKind, Side

MEDIATOR = "mediator"
JUDGE = "judge"

CAUCUS_OF_SIDE = {Side.PLAINTIFF: RoomKind.CAUCUS_PLAINTIFF, Side.DEFENDANT: RoomKind.CAUCUS_DEFENDANT}
SIDE_OF_CAUCUS = {kind: side for side, kind in CAUCUS_OF_SIDE.items()}
# The standings of a party's people: the two sides and the third parties.
PARTY_STANDINGS = tuple(Side.values)


def side_of_room(room_kind: str) -> str | None:
    """The side a caucus room belongs to; None for the joint room."""
    return SIDE_OF_CAUCUS.get(room_kind)


def room_kinds_of(standing: str | None) -> list[str]:
    """The kinds of the case's rooms someone of this standing may be in."""
    if standing == MEDIATOR:
        return list(RoomKind.values)
    if standing in CAUCUS_OF_SIDE:
        return [RoomKind.JOINT, CAUCUS_OF_SIDE[standing]]
    if standing == Side.THIRD_PARTY:
        return [RoomKind.JOINT]
    if standing == JUDGE:
        return [RoomKind.JOINT]
    return []


def may_be_in_room(standing: str | None, room_kind: str) -> bool:
    return room_kind in room_kinds_of(standing)


def standing_from(*, user_id: int, mediator_id: int, judge_id: int | None, participant_side: str | None) -> str | None:
    """The standing, from the facts a caller has already read: the case's mediator and
    judge, and the side the user actively takes part on (None if they do not)."""
    if user_id == mediator_id:
        return MEDIATOR
    if participant_side is not None:
        return participant_side
    if judge_id is not None and user_id == judge_id:
        return JUDGE
    return None


def active_participation(user: User, case: MediationCase) -> Participant | None:
    """The user's active participation in the case (with its party and user), if any."""
    if not user.is_authenticated:
        return None
    return Participant.active.filter(case_id=case.pk, user=user).select_related("party", "user").first()


def standing_in_case(user: User, case: MediationCase) -> tuple[str | None, Participant | None]:
    """The user's standing in the case, and their participation when the standing comes
    from it."""
    if not user.is_authenticated:
        return None, None
    if case.mediator_id == user.pk:
        return MEDIATOR, None
    participant = active_participation(user, case)
    side = participant.party.side if participant is not None else None
    return standing_from(
        user_id=user.pk, mediator_id=case.mediator_id, judge_id=case.judge_id, participant_side=side
    ), participant


def participants_in_room(case: MediationCase, room_kind: str) -> QuerySet[Participant]:
    """The case's active participants who may be in a room of this kind, with their
    party and user."""
    sides = [side for side in Side.values if may_be_in_room(side, room_kind)]
    return Participant.active.filter(case_id=case.pk, party__side__in=sides).select_related("party", "user")


def participants_in_room_among(participants: list[Participant], room_kind: str) -> list[Participant]:
    """Those of a case's active participants (read already, with their parties) who
    may be in a room of this kind: `participants_in_room` without a query."""
    return [participant for participant in participants if may_be_in_room(participant.party.side, room_kind)]


def court_staff_in_room(case: MediationCase, room_kind: str) -> list[tuple[str, User]]:
    """(standing, user) of the case's mediator, and of its judge where they may be."""
    staff = [(MEDIATOR, case.mediator)]
    if case.judge_id is not None and may_be_in_room(JUDGE, room_kind):
        staff.append((JUDGE, case.judge))
    return staff


def people_in_room(case: MediationCase, room_kind: str) -> list[User]:
    """Everyone who may be in the case's room of this kind."""
    return [user for _standing, user in court_staff_in_room(case, room_kind)] + [
        participant.user for participant in participants_in_room(case, room_kind)
    ]


def rooms_of_user(user: User, *, case_field: str = "case", kind_field: str = "kind") -> Q:
    """A filter on rows naming a case and a room kind (rooms, sessions) for those the
    user may be in: `case_field` names the row's case, `kind_field` its room kind."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    visible = Q(**{f"{case_field}__mediator": user}) | Q(
        **{f"{case_field}__judge": user, f"{kind_field}__in": room_kinds_of(JUDGE)}
    )
    for case_id, side in Participant.active.filter(user=user).values_list("case_id", "party__side"):
        visible |= Q(**{f"{case_field}_id": case_id, f"{kind_field}__in": room_kinds_of(side)})
    return visible


# Acting for a party -----------------------------------------------------------------


class MayNotActForParty(ActionForbidden):
    """A participant who may not act for their party (sign, apply, ask): why, as a
    code and a message."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def acting_refusal(participant: Participant) -> MayNotActForParty | None:
    """Why this participant may never act for their party by their role, or None if
    their role lets them: an interpreter and a helper take part beside their party
    (they see what it sees and write in the rooms) and sign, apply for and ask for
    nothing; a guardian (法定代理人) acts for a natural person only, like the legal
    representative of an organisation. The first half of the one rule of who may
    act for a party: `documents.agreement_rules.signing_authority_refusal` adds an
    agent's special authority, and every signature, application and request asks it."""
    if participant.role == ParticipantRole.INTERPRETER:
        return MayNotActForParty(
            _(
                "You take part as an interpreter: you see what your party sees and may write in the rooms, but you "
                "cannot sign, apply or make requests for them."
            ),
            code="interpreter_signs_nothing",
        )
    if participant.role == ParticipantRole.HELPER:
        return MayNotActForParty(
            _(
                "You take part as a helper: you see what your party sees and may write in the rooms, but you cannot "
                "sign, apply or make requests for them. The party signs in person, or their guardian or agent does."
            ),
            code="helper_signs_nothing",
        )
    if participant.role == ParticipantRole.GUARDIAN and participant.party.kind != Party.Kind.PERSON:
        return MayNotActForParty(
            _("A guardian acts for a natural person only: an organisation acts through its legal representative."),
            code="guardian_of_organisation",
        )
    return None


def acting_participation(user: User, case: MediationCase) -> Participant | None:
    """The user's active participation in the case by which they may act for its party
    (`acting_refusal`), if any: for requests a party makes (a recusal, an objection)."""
    participant = active_participation(user, case)
    if participant is None or acting_refusal(participant) is not None:
        return None
    return participant


def signs_nothing(role: str) -> bool:
    """Whether people of this role take part beside their party without acting for it."""
    return role in SIGNS_NOTHING


def role_explanation(role: str) -> str:
    """What a role lets its holder do, in plain words, for the invitation page and the
    case page; empty for the party in person."""
    if role in SIGNS_NOTHING:
        return _(
            "You will see what the party sees and may write in the rooms; you sign, apply for and ask for nothing "
            "on their behalf."
        )
    if role == ParticipantRole.GUARDIAN:
        return _("As guardian (statutory agent) you act and sign for the party, who lacks capacity to do so.")
    return ""
