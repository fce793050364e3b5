"""The mediation record (调解笔录) of a session.

The case's mediator writes it during or after a session that has started
(`write_record`): time, mode, place, who attended in which capacity (the case's
people picked with their capacity, the court's staff, others by name), what each side
stated and asked, what was agreed and what is still in dispute, and their note. It
stays a draft, theirs alone, until they send it for signature
(`send_record_for_signature`): it is then laid out as a court document (kind
MEDIATION_RECORD) and can no longer change. Each party who attended signs its place
(a participant who acts for it: `court_documents._authority_refusal`, an agent by
their general authority, a guardian for a natural person, never an interpreter or a
helper), on the platform or on paper in person (documents.services.in_person); the
mediator signs theirs; the last place filled seals it.

Who reads a record: the court (the case's mediator and judge, the general liaison)
and, once sent, those who may be in the session's room (`participation.may_be_in_room`):
the record of a caucus (背对背) is its side's and the court's alone, on every channel.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.agreement_rules import designation, party_slot
from documents.models import CourtDocument, MediationRecord
from documents.services import court_documents
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, MediationSession, Participant, ParticipantRole, User, side_label
from mediation.models.cases import SIGNS_NOTHING
from mediation.notifications import notify, register_kind
from mediation.participation import JUDGE, MEDIATOR, may_be_in_room, side_of_room, standing_in_case
from mediation.services.cases import check_case_action, lock_case, record_case_event

TEMPLATE = "documents/pdf/mediation_record.html"
MEDIATOR_SLOT = "mediator"
# Bounds on what a record holds: a long session's record, never an unbounded one.
MAX_TEXT = 8000
MAX_OTHERS = 20
MAX_SESSION_HOURS = 24
SIDES = ("plaintiff", "defendant", "third")

register_kind(
    "mediation_record.to_sign",
    gettext_lazy("The mediation record of a session in case %(number)s is ready: read it and sign it."),
    topic="cases",
)


# Who reads it ---------------------------------------------------------------------------------


def follows_whole_case(user: User, case: MediationCase) -> bool:
    """The court's side of the case (its mediator and judge, the general liaison)."""
    from documents.selectors_in_person import follows_whole_case as court_side

    return court_side(user, case)


def may_read_record(user: User, record: MediationRecord) -> bool:
    """Whether `user` may know of `record`: the mediator always; once sent, the court's
    side and those who may be in the session's room (a caucus's record: its side)."""
    if not user.is_authenticated:
        return False
    standing, _participant = standing_in_case(user, record.case)
    if standing == MEDIATOR:
        return True
    if record.is_draft:
        return False
    if standing == JUDGE or follows_whole_case(user, record.case):
        return True
    return may_be_in_room(standing, record.session.room_kind)


def visible_records(user: User, case: MediationCase) -> list[MediationRecord]:
    records = MediationRecord.objects.filter(case=case).select_related("session", "document", "case")
    return [record for record in records if may_read_record(user, record)]


def record_of_document(document: CourtDocument) -> MediationRecord | None:
    return MediationRecord.objects.select_related("session", "case").filter(document=document).first()


def may_write(user: User, case: MediationCase) -> bool:
    try:
        check_case_action(user, "write_record", case)
    except (ActionForbidden, TransitionNotAllowed):
        return False
    return True


def sessions_to_record(case: MediationCase):
    """The sessions a record can be written of: started, not cancelled."""
    return MediationSession.objects.filter(case=case, started_at__isnull=False, cancelled_at__isnull=True)


# Who attended ---------------------------------------------------------------------------------


def attendee_choices(session: MediationSession) -> list[tuple[str, str]]:
    """The people who may have attended `session`, as (code, label): the case's
    active participants who may be in its room, with their capacity; the mediator; the
    judge where they may be in the room."""
    case = session.case
    choices = []
    participants = (
        Participant.active.filter(case=case).select_related("party", "user").order_by("party__side", "party_id", "id")
    )
    for participant in participants:
        if may_be_in_room(participant.party.side, session.room_kind):
            choices.append(
                (
                    f"participant-{participant.pk}",
                    _("%(name)s, %(capacity)s for %(party)s")
                    % {
                        "name": participant.user,
                        "capacity": participant.get_role_display(),
                        "party": designation(participant.party.side, participant.party.name),
                    },
                )
            )
    choices.append((f"staff-{MEDIATOR}", _("%(name)s, mediator") % {"name": case.mediator}))
    if case.judge_id is not None and may_be_in_room(JUDGE, session.room_kind):
        choices.append((f"staff-{JUDGE}", _("%(name)s, judge") % {"name": case.judge}))
    return choices


def sides_of(session: MediationSession) -> list[str]:
    """The sides whose statements a record of `session` holds: those whose people
    may be in its room and who are parties of the case."""
    sides = session.case.parties.values_list("side", flat=True).distinct()
    return [side for side in SIDES if side in sides and may_be_in_room(side, session.room_kind)]


def _clean(session: MediationSession, data: dict) -> dict:
    """The record's fields from `data`, checked: times in order and bounded, a known
    mode, a place when met in person, attendees among those who may be in the room,
    statements of the room's sides only, texts bounded. ValidationError otherwise."""
    errors = {}
    started_at, ended_at = data.get("started_at"), data.get("ended_at")
    if not isinstance(started_at, dt.datetime) or not isinstance(ended_at, dt.datetime):
        errors["started_at"] = _("Give when the session started and ended.")
    elif ended_at < started_at or ended_at - started_at > dt.timedelta(hours=MAX_SESSION_HOURS):
        errors["ended_at"] = _("The session ends after it starts, within 24 hours.")
    elif started_at > timezone.now():
        errors["started_at"] = _("A record is written of a session that has started.")
    mode = data.get("mode", "")
    if mode not in MediationRecord.Mode.values:
        errors["mode"] = _("Choose how the session was held.")
    place = (data.get("place") or "").strip()
    if mode in (MediationRecord.Mode.IN_PERSON, MediationRecord.Mode.MIXED) and not place:
        errors["place"] = _("Give the place where the session was held.")
    allowed = {code for code, _label in attendee_choices(session)}
    attendees = list(dict.fromkeys(data.get("attendees") or []))
    if any(code not in allowed for code in attendees):
        errors["attendees"] = _("Choose those who attended among the people of the session's room.")
    others = []
    for line in (data.get("others") or "").splitlines():
        name, _sep, capacity = line.partition(",")
        if not line.strip():
            continue
        name, capacity = name.strip()[:100], capacity.strip()[:50]
        if not name:
            continue
        others.append({"name": name, "capacity": capacity})
    if len(others) > MAX_OTHERS:
        errors["others"] = _("At most %(count)s other people.") % {"count": MAX_OTHERS}
    statements = {}
    for side in sides_of(session):
        entry = {
            "statements": (data.get(f"statements_{side}") or "").strip(),
            "claims": (data.get(f"claims_{side}") or "").strip(),
        }
        if entry["statements"] or entry["claims"]:
            statements[side] = entry
    texts = {
        "agreed": (data.get("agreed") or "").strip(),
        "disputed": (data.get("disputed") or "").strip(),
        "mediator_note": (data.get("mediator_note") or "").strip(),
    }
    too_long = [key for key, value in texts.items() if len(value) > MAX_TEXT] + [
        f"statements_{side}" for side, entry in statements.items() if max(map(len, entry.values())) > MAX_TEXT
    ]
    for key in too_long:
        errors[key] = _("At most %(count)s characters.") % {"count": MAX_TEXT}
    if not any(code.startswith("participant-") for code in attendees) and not others:
        errors["attendees"] = errors.get("attendees") or _("Say who attended for the parties.")
    if errors:
        raise ValidationError(errors)
    # The court's staff by who they are now: the record keeps who attended, even if the
    # case passes to another mediator or judge before it is sent.
    staff = {MEDIATOR: session.case.mediator_id, JUDGE: session.case.judge_id}
    attendance = [
        {"participant": int(code.split("-", 1)[1])}
        if code.startswith("participant-")
        else {"staff": code[6:], "user": staff[code[6:]]}
        for code in attendees
    ] + others
    return {
        "started_at": started_at,
        "ended_at": ended_at,
        "mode": mode,
        "place": place[:200],
        "recorder": (data.get("recorder") or "").strip()[:100],
        "attendance": attendance,
        "statements": statements,
        **texts,
    }


@transaction.atomic
def write_record(*, session: MediationSession, actor: User, data: dict) -> MediationRecord:
    """Write (or rewrite) the record of `session` while it is a draft: only the case's
    mediator, of a session that has started and was not cancelled. Takes the case's
    row lock, then the record's."""
    case = lock_case(session.case)
    check_case_action(actor, "write_record", case)
    session = MediationSession.objects.select_related("case").get(pk=session.pk)
    if session.case_id != case.pk or session.cancelled_at is not None or session.started_at is None:
        raise TransitionNotAllowed(_("A record is written of a session that has started and was not cancelled."))
    fields = _clean(session, data)
    record = MediationRecord.objects.select_for_update().filter(session=session).first()
    if record is not None and not record.is_draft:
        raise TransitionNotAllowed(_("This record was sent for signature: it can no longer change."))
    created = record is None
    if created:
        record = MediationRecord(case=case, session=session, written_by=actor)
    for name, value in fields.items():
        setattr(record, name, value)
    record.save()
    audit.record(
        actor=actor,
        action="mediation_record.write",
        target=record,
        data={"case": case.pk, "session": session.pk, "created": created},
    )
    return record


# What it says ---------------------------------------------------------------------------------


def _attendees(record: MediationRecord) -> list[dict]:
    """Who attended, as the record keeps them at sending: names, capacities (codes) and
    the party each acted for."""
    case = record.case
    ids = [entry["participant"] for entry in record.attendance if "participant" in entry]
    participants = {p.pk: p for p in Participant.objects.filter(case=case, pk__in=ids).select_related("party", "user")}
    rows = []
    for entry in record.attendance:
        if "participant" in entry:
            participant = participants.get(entry["participant"])
            if participant is None:
                continue
            rows.append(
                {
                    "name": str(participant.user),
                    "role": participant.role,
                    "party": participant.party_id,
                    "party_name": participant.party.name,
                    "side": participant.party.side,
                }
            )
        elif "staff" in entry:
            person = User.objects.filter(pk=entry["user"]).first() if entry.get("user") else None
            if person is None:
                person = case.mediator if entry["staff"] == MEDIATOR else case.judge
            rows.append({"name": str(person), "role": entry["staff"]})
        else:
            rows.append({"name": entry["name"], "role": "other", "capacity": entry.get("capacity", "")})
    return rows


def record_content(record: MediationRecord) -> dict:
    """What the record says, as codes and parameters: what is laid out, signed and sealed."""
    case = record.case
    parties = {party.side: [] for party in case.parties.all()}
    for party in case.parties.all():
        parties[party.side].append(party.name)
    return {
        "schema": "mediation_record/1",
        "court": settings.COURT_NAME,
        "case_number": case.number,
        "cause_of_action": case.cause_of_action,
        "session": record.session_id,
        "room": record.session.room_kind,
        "side_only": side_of_room(record.session.room_kind),
        "started_at": timezone.localtime(record.started_at).isoformat(timespec="minutes"),
        "ended_at": timezone.localtime(record.ended_at).isoformat(timespec="minutes"),
        "mode": record.mode,
        "place": record.place,
        "mediator": str(case.mediator),
        "recorder": record.recorder or str(case.mediator),
        "attendees": _attendees(record),
        "statements": [
            {"side": side, "parties": parties.get(side, []), **record.statements[side]}
            for side in SIDES
            if side in record.statements
        ],
        "agreed": record.agreed,
        "disputed": record.disputed,
        "mediator_note": record.mediator_note,
    }


def record_reading(content: dict) -> dict:
    """The record's codes worded in the active language (the PDF's, the pages')."""
    roles = dict(ParticipantRole.choices)
    staff = {MEDIATOR: _("Mediator"), JUDGE: _("Judge")}
    attendees = []
    for row in content.get("attendees", []):
        if row.get("party"):
            capacity = _("%(capacity)s for %(party)s") % {
                "capacity": roles.get(row["role"], row["role"]),
                "party": designation(row["side"], row["party_name"]),
            }
        elif row["role"] in staff:
            capacity = staff[row["role"]]
        else:
            capacity = row.get("capacity") or _("Other")
        attendees.append({"name": row["name"], "capacity": capacity})
    modes = dict(MediationRecord.Mode.choices)
    return {
        "mode_label": modes.get(content.get("mode"), ""),
        "attendees_rendered": attendees,
        "statements_rendered": [
            {**entry, "side_label": side_label(entry["side"]), "names": "、".join(entry.get("parties", []))}
            for entry in content.get("statements", [])
        ],
        "caucus": bool(content.get("side_only")),
        "started": _moment(content.get("started_at")),
        "ended": _moment(content.get("ended_at")),
    }


def _moment(value: str | None) -> str:
    if not value:
        return ""
    return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


def record_slots(record: MediationRecord) -> list[dict]:
    """Who signs: each party one of whose people attended acting for it (not an
    interpreter nor a helper), then the mediator."""
    ids = [entry["participant"] for entry in record.attendance if "participant" in entry]
    acting = (
        Participant.objects.filter(case=record.case, pk__in=ids)
        .exclude(role__in=SIGNS_NOTHING)
        .select_related("party")
        .order_by("party_id")
    )
    acting = sorted(acting, key=lambda participant: SIDES.index(participant.party.side))
    slots, seen = [], set()
    for participant in acting:
        party = participant.party
        if party.pk in seen:
            continue
        seen.add(party.pk)
        slots.append(
            {"slot": party_slot(party), "role": "party", "party": party.pk, "side": party.side, "name": party.name}
        )
    mediator = record.case.mediator
    slots.append({"slot": MEDIATOR_SLOT, "role": "mediator", "user": mediator.pk, "name": str(mediator)})
    return slots


def record_pdf_context(content: dict) -> dict:
    with translation.override(settings.DOCUMENT_LANGUAGE):
        return {"content": {**content, **record_reading(content)}}


# Sending it for signature --------------------------------------------------------------------


def signers_to_tell(document: CourtDocument) -> list[User]:
    """Those who sign the record: the people acting for each party with a place, and
    the mediator."""
    parties = [entry["party"] for entry in document.signature_slots if entry.get("party")]
    people = Participant.active.filter(case_id=document.case_id, party_id__in=parties).exclude(role__in=SIGNS_NOTHING)
    return [participant.user for participant in people.select_related("user")] + [document.case.mediator]


@transaction.atomic
def send_record_for_signature(*, record: MediationRecord, actor: User) -> MediationRecord:
    """Fix the draft: laid out as a court document that each attending party and the
    mediator sign. From now on it cannot change. Takes the case's row lock, then the
    record's."""
    case = lock_case(record.case)
    check_case_action(actor, "write_record", case)
    record = MediationRecord.objects.select_for_update().select_related("session").get(pk=record.pk)
    record.case = case
    if not record.is_draft:
        raise TransitionNotAllowed(_("This record was already sent for signature."))
    content = record_content(record)
    document = court_documents.prepare_court_document(
        case=case,
        kind=CourtDocument.Kind.MEDIATION_RECORD,
        template=TEMPLATE,
        context=record_pdf_context(content),
        content=content,
        slots=record_slots(record),
        actor=actor,
    )
    record.document = document
    record.status = MediationRecord.Status.SENT
    record.sent_at = timezone.now()
    record.save(update_fields=["document", "status", "sent_at", "updated_at"])
    audit.record(
        actor=actor,
        action="mediation_record.send",
        target=record,
        data={"case": case.pk, "session": record.session_id, "document": document.pk},
    )
    record_case_event(
        case, actor=actor, action="mediation_record_sent", data={"record": record.pk, "document": document.pk}
    )
    notify(
        recipients=[user for user in signers_to_tell(document) if user != actor],
        kind="mediation_record.to_sign",
        params={"number": case.number},
        url=court_documents.court_document_url(document),
    )
    return record


court_documents.register_reading(
    CourtDocument.Kind.MEDIATION_RECORD,
    "documents/_mediation_record_reading.html",
    lambda document: {**document.content, **record_reading(document.content)},
)
