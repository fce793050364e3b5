"""Every kind of room event, in one catalogue: what its `data` holds, whose rooms it
reaches, and how it reads.

An event is a persisted entry of a room's sequence (`rooms.services.post_event`,
`post_case_event`), sent to members as

    {"type": "event", "seq": N, "kind": "<kind>", "actor": {...} | null,
     "data": {<the kind's params>}, "sent_at": "ISO-8601"}

and stored as codes and parameters, never as a sentence: each reader sees it in their
own language. `post_event` refuses a kind that is not here, or data that is not the
kind's params, so the catalogue is the one list of what clients may receive. The room
page hands the texts, translated for its reader, to the client (room.js renders
events with them); `render_event` renders one on the server the same way.

Text parameters: `%(actor)s` is the actor's name (or "The platform"), and each of the
kind's params by its name, a person or party given by their name and a list joined
with commas, and a time (a param named `*_at`, ISO 8601) in the reader's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Whose rooms an event reaches.
# The one room it happened in (closing, muting).
ROOM = "room"
# The case's joint room.
JOINT = "joint"
# The case's joint room, and the side's caucus when it concerns one side; a fact only
# one side may see (a side-only document) goes to that side's caucus alone (see
# post_case_event).
CASE = "case"
# The room the session is held in.
SESSION_ROOM = "session room"

PERSON = {"id": int, "name": str}


@dataclass(frozen=True)
class EventKind:
    # Each key of the event's data and its type: a type, a tuple of types (None
    # meaning the key may be null), or a dict for a nested object.
    params: dict
    audience: str
    text: object
    # An example of the data, as posted: the tests post one of each kind.
    example: dict


EVENTS: dict[str, EventKind] = {
    "participant.joined": EventKind(
        params={"user": PERSON, "role": str, "side": (str, None), "party": str},
        audience=CASE,
        text=_("%(user)s joined the case for %(party)s."),
        example={"user": {"id": 7, "name": "Wang Fang"}, "role": "agent", "side": "plaintiff", "party": "Shanghai Co."},
    ),
    "participant.left": EventKind(
        params={"user": PERSON, "role": str, "side": (str, None), "party": str},
        audience=CASE,
        text=_("%(user)s no longer takes part in the case."),
        example={"user": {"id": 7, "name": "Wang Fang"}, "role": "agent", "side": "plaintiff", "party": "Shanghai Co."},
    ),
    "participant.muted": EventKind(
        params={
            "user": {"id": int, "name": str, "role": str, "side": (str, None), "party": (str, None)},
        },
        audience=ROOM,
        text=_("The mediator muted %(user)s in this room."),
        example={"user": {"id": 7, "name": "Wang Fang", "role": "agent", "side": "plaintiff", "party": "Shanghai Co."}},
    ),
    "participant.unmuted": EventKind(
        params={"user": PERSON},
        audience=ROOM,
        text=_("%(user)s may post again."),
        example={"user": {"id": 7, "name": "Wang Fang"}},
    ),
    # The mediator's moderation of the room's video (rooms.media.services): in the one
    # room it happened in (a caucus's stays in that caucus).
    "media.muted": EventKind(
        params={"user": PERSON},
        audience=ROOM,
        text=_("The mediator muted %(user)s's microphone in this room's video."),
        example={"user": {"id": 7, "name": "Wang Fang"}},
    ),
    "media.unmuted": EventKind(
        params={"user": PERSON},
        audience=ROOM,
        text=_("%(user)s may speak again in this room's video."),
        example={"user": {"id": 7, "name": "Wang Fang"}},
    ),
    "media.removed": EventKind(
        params={"user": PERSON},
        audience=ROOM,
        text=_("The mediator removed %(user)s from this room's video."),
        example={"user": {"id": 7, "name": "Wang Fang"}},
    ),
    "media.readmitted": EventKind(
        params={"user": PERSON},
        audience=ROOM,
        text=_("%(user)s may join this room's video again."),
        example={"user": {"id": 7, "name": "Wang Fang"}},
    ),
    "session.started": EventKind(
        params={"session": int},
        audience=SESSION_ROOM,
        text=_("The mediation session has started."),
        example={"session": 3},
    ),
    "session.ended": EventKind(
        params={"session": int},
        audience=SESSION_ROOM,
        text=_("The mediation session has ended."),
        example={"session": 3},
    ),
    "room.closed": EventKind(
        params={},
        audience=ROOM,
        text=_("The mediator closed this room."),
        example={},
    ),
    "room.reopened": EventKind(
        # Why: null while the case is open; after its settlement a reason code
        # (rooms.services.FOLLOW_UP_REASONS), such as "performance". The actor is the
        # mediator, or the judge reviewing an application for judicial confirmation.
        params={"reason": (str, None)},
        audience=ROOM,
        text=_("%(actor)s reopened this room."),
        example={"reason": "performance"},
    ),
    "room.closing": EventKind(
        # Why the rooms close at a set time: a reason code (rooms.services.CLOSING_REASONS).
        params={"closes_at": str, "reason": str},
        audience=ROOM,
        text=_("This room closes to new messages at %(closes_at)s."),
        example={"closes_at": "2026-12-07T18:00:00+08:00", "reason": "agreement_sealed"},
    ),
    "case.status": EventKind(
        params={"from": str, "to": str},
        audience=JOINT,
        text=_("The status of the case changed."),
        example={"from": "pending", "to": "in_mediation"},
    ),
    "agreement.changed": EventKind(
        params={"version": int, "signatures_voided": int},
        audience=CASE,
        text=_("The settlement agreement was changed: version %(version)s."),
        example={"version": 2, "signatures_voided": 1},
    ),
    "agreement.locked": EventKind(
        params={"version": int, "agreement": int},
        audience=CASE,
        text=_("Version %(version)s of the settlement agreement is ready to sign."),
        example={"version": 2, "agreement": 5},
    ),
    "agreement.signed": EventKind(
        params={"version": int, "party": (str, None)},
        audience=CASE,
        text=_("%(actor)s signed version %(version)s of the settlement agreement."),
        example={"version": 2, "party": "Beijing Tech Co."},
    ),
    "agreement.sealed": EventKind(
        params={"agreement": int, "verification_code": str, "sha256": str},
        audience=CASE,
        text=_("The settlement agreement is sealed. Verification code: %(verification_code)s."),
        example={"agreement": 5, "verification_code": "ABCD-EFGH", "sha256": "0" * 64},
    ),
    # Performance of the agreed terms (documents.services.performance): the term's
    # number in the agreement, never what a party wrote.
    "obligation.reported": EventKind(
        params={"obligation": int, "term": int},
        audience=JOINT,
        text=_("%(actor)s reported term %(term)s of the agreement performed."),
        example={"obligation": 3, "term": 2},
    ),
    "obligation.confirmed": EventKind(
        params={"obligation": int, "term": int},
        audience=JOINT,
        text=_("%(actor)s confirmed that term %(term)s of the agreement is performed."),
        example={"obligation": 3, "term": 2},
    ),
    "obligation.disputed": EventKind(
        params={"obligation": int, "term": int},
        audience=JOINT,
        text=_("%(actor)s disputed that term %(term)s of the agreement is performed."),
        example={"obligation": 3, "term": 2},
    ),
    "obligation.overdue": EventKind(
        params={"obligation": int, "term": int},
        audience=JOINT,
        text=_("Term %(term)s of the agreement is overdue."),
        example={"obligation": 3, "term": 2},
    ),
    "obligation.urged": EventKind(
        params={"obligation": int, "term": int},
        audience=JOINT,
        text=_("The mediator urged performance of term %(term)s of the agreement."),
        example={"obligation": 3, "term": 2},
    ),
    # Court documents (documents.services.court_documents); `kind` is the
    # CourtDocument.Kind code, for clients that word each kind their own way.
    "court_document.prepared": EventKind(
        params={"document": int, "kind": str, "signers": int},
        audience=CASE,
        text=_("A court document was prepared for signing."),
        example={"document": 3, "kind": "confirmation_application", "signers": 2},
    ),
    "court_document.signed": EventKind(
        params={"document": int, "kind": str, "party": (str, None)},
        audience=CASE,
        text=_("%(actor)s signed a court document."),
        example={"document": 3, "kind": "confirmation_application", "party": "Beijing Tech Co."},
    ),
    "court_document.sealed": EventKind(
        params={"document": int, "kind": str, "verification_code": str, "sha256": str},
        audience=CASE,
        text=_("A court document is signed and sealed. Verification code: %(verification_code)s."),
        example={"document": 3, "kind": "ruling", "verification_code": "ABCD-EFGH-JKLM", "sha256": "0" * 64},
    ),
    # Judicial confirmation (documents.services.confirmation): `status` is the
    # JudicialConfirmation.Status code after the step.
    "confirmation.started": EventKind(
        params={"confirmation": int, "status": str},
        audience=CASE,
        text=_("%(actor)s started the application for judicial confirmation: every party signs it."),
        example={"confirmation": 2, "status": "preparing"},
    ),
    "confirmation.applied": EventKind(
        params={"confirmation": int, "status": str},
        audience=CASE,
        text=_("Every party signed the application for judicial confirmation: it is with the court."),
        example={"confirmation": 2, "status": "applied"},
    ),
    "confirmation.withdrawn": EventKind(
        params={"confirmation": int, "status": str},
        audience=CASE,
        text=_("%(actor)s withdrew the application for judicial confirmation."),
        example={"confirmation": 2, "status": "withdrawn"},
    ),
    "confirmation.lapsed": EventKind(
        params={"confirmation": int, "status": str},
        audience=CASE,
        text=_("The application for judicial confirmation lapsed: not every party signed it within the 30 days."),
        example={"confirmation": 2, "status": "lapsed"},
    ),
    "confirmation.reminded": EventKind(
        params={"confirmation": int, "status": str},
        audience=CASE,
        text=_("The parties were reminded that the time to apply for judicial confirmation is running out."),
        example={"confirmation": 2, "status": "preparing"},
    ),
    "document.served": EventKind(
        params={"service": int, "recipient": PERSON, "documents": list},
        audience=CASE,
        text=_("%(actor)s served %(documents)s on %(recipient)s."),
        example={"service": 4, "recipient": {"id": 8, "name": "Li Ming"}, "documents": ["Complaint", "Evidence"]},
    ),
    "document.acknowledged": EventKind(
        params={"service": int},
        audience=CASE,
        text=_("%(actor)s acknowledged receipt of the served documents."),
        example={"service": 4},
    ),
    # The obligee applied for enforcement (a side-only fact: that side's caucus only).
    "enforcement.applied": EventKind(
        params={"document": int, "verification_code": str, "sha256": str},
        audience=CASE,
        text=_(
            "%(actor)s applied for enforcement. Verification code of the sealed application: %(verification_code)s."
        ),
        example={"document": 9, "verification_code": "ABCD-EFGH-JKLM", "sha256": "0" * 64},
    ),
    # Acknowledged without having opened any of the documents on the platform.
    "document.acknowledged_unopened": EventKind(
        params={"service": int},
        audience=CASE,
        text=_("%(actor)s acknowledged receipt of the served documents without opening them."),
        example={"service": 4},
    ),
    # Judicial confirmation (documents.services.confirmation_court).
    "confirmation.review_started": EventKind(
        params={"case_number": str},
        audience=JOINT,
        text=_("%(actor)s started the judicial review of the application %(case_number)s in this room."),
        example={"case_number": "(2026)京0107民特1号"},
    ),
    "confirmation.ruled": EventKind(
        # decision: "confirm" | "reject" (JudicialConfirmation.Decision).
        params={"case_number": str, "decision": str, "verification_code": str},
        audience=JOINT,
        text=_(
            "The court's ruling %(case_number)s on the application for judicial confirmation is sealed and served. "
            "Verification code: %(verification_code)s."
        ),
        example={"case_number": "(2026)京0107民特1号", "decision": "confirm", "verification_code": "ABCD-EFGH"},
    ),
    # Recording the room's media (rooms.media.recording). `recording` is the
    # MediaRecording's id (null for a consent to the room's next recording).
    "recording.consented": EventKind(
        params={"recording": (int, None)},
        audience=ROOM,
        text=_("%(actor)s agreed to this room being recorded."),
        example={"recording": None},
    ),
    "recording.started": EventKind(
        # Everyone in the media room when it started, each of whom had consented.
        params={"recording": int, "consented": list},
        audience=ROOM,
        text=_("%(actor)s started recording this room, with the consent of everyone present: %(consented)s."),
        example={"recording": 4, "consented": ["Liu Yang", "Wang Fang"]},
    ),
    "recording.stopped": EventKind(
        # reason: MediaRecording.StopReason (mediator, room_closed, case_ended, server_lost).
        params={"recording": int, "reason": str},
        audience=ROOM,
        text=_("The recording of this room has stopped."),
        example={"recording": 4, "reason": "mediator"},
    ),
}


class UnknownEvent(ValueError):
    """A kind not in the catalogue, or data that is not its params: a defect."""


def check_event(kind: str, data: dict) -> None:
    """Raise UnknownEvent unless `data` is what the catalogue says `kind` carries."""
    event = EVENTS.get(kind)
    if event is None:
        raise UnknownEvent(f"Room event {kind!r} is not in rooms.events.EVENTS")
    problems = _mismatches(event.params, data, kind)
    if problems:
        raise UnknownEvent("; ".join(problems))


def _mismatches(schema: dict, data, where: str) -> list[str]:
    if not isinstance(data, dict):
        return [f"{where} is not an object"]
    if set(data) != set(schema):
        return [f"{where} holds {sorted(data)}, the catalogue says {sorted(schema)}"]
    problems = []
    for key, expected in schema.items():
        value = data[key]
        if isinstance(expected, dict):
            problems += _mismatches(expected, value, f"{where}.{key}")
            continue
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if value is None and None in allowed:
            continue
        types = tuple(t for t in allowed if t is not None)
        # bool is an int to Python, never to the catalogue.
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            problems.append(f"{where}.{key} is {type(value).__name__}, the catalogue says {expected}")
    return problems


def text_params(actor: dict | None, data: dict) -> dict:
    """The parameters of an event's text (room.js computes the same)."""
    params = {"actor": actor["name"] if actor else gettext("The platform")}
    for key, value in data.items():
        if isinstance(value, dict):
            params[key] = value.get("name", "")
        elif isinstance(value, list):
            params[key] = ", ".join(str(item) for item in value)
        elif key.endswith("_at") and isinstance(value, str) and value:
            params[key] = _local_time(value)
        else:
            params[key] = "" if value is None else value
    return params


def _local_time(iso: str) -> str:
    from django.utils import dateparse, formats, timezone

    moment = dateparse.parse_datetime(iso)
    if moment is None:
        return iso
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def render_event(kind: str, actor: dict | None, data: dict) -> str:
    """The event as its reader reads it, in the active language."""
    return str(EVENTS[kind].text) % text_params(actor, data)


def texts() -> dict[str, str]:
    """Every kind's text in the active language, for the room page's client."""
    return {kind: str(event.text) for kind, event in EVENTS.items()}
