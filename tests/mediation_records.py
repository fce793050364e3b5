"""Mediation records (调解笔录) for tests: a started session and its record, written,
sent for signature and signed through the services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from documents.models import CourtDocument, MediationRecord
from documents.services import mediation_records
from mediation.models import MediationSession, RoomKind
from mediation.services import sessions


def started_session(world, room_kind: str = RoomKind.JOINT) -> MediationSession:
    session = sessions.schedule_session(
        case=world.case,
        actor=world.mediator,
        starts_at=timezone.now() + dt.timedelta(minutes=5),
        room_kind=room_kind,
        duration_minutes=60,
    )
    return sessions.start_session(session=session, actor=world.mediator)


def record_data(world, session: MediationSession, **changes) -> dict:
    now = timezone.now()
    attendees = [f"participant-{world.plaintiff_participant.pk}", "staff-mediator"]
    if session.room_kind in (RoomKind.JOINT, RoomKind.CAUCUS_DEFENDANT):
        attendees.insert(1, f"participant-{world.defendant_participant.pk}")
    if session.room_kind == RoomKind.CAUCUS_DEFENDANT:
        attendees.remove(f"participant-{world.plaintiff_participant.pk}")
    data = {
        "started_at": now - dt.timedelta(hours=2),
        "ended_at": now - dt.timedelta(hours=1),
        "mode": "video",
        "place": "",
        "recorder": "",
        "attendees": attendees,
        "others": "",
        "statements_plaintiff": "被告拖欠视频制作费五十万元。",
        "claims_plaintiff": "请求被告支付制作费五十万元。",
        "statements_defendant": "视频质量未达约定。",
        "claims_defendant": "请求减少价款。",
        "agreed": "被告分期支付制作费。",
        "disputed": "违约金。",
        "mediator_note": "双方态度积极。",
    }
    data.update(changes)
    return data


def written_record(world, room_kind: str = RoomKind.JOINT, **changes) -> MediationRecord:
    session = started_session(world, room_kind)
    return mediation_records.write_record(
        session=session, actor=world.mediator, data=record_data(world, session, **changes)
    )


def sent_record(world, room_kind: str = RoomKind.JOINT, **changes) -> CourtDocument:
    record = written_record(world, room_kind, **changes)
    record = mediation_records.send_record_for_signature(record=record, actor=world.mediator)
    return CourtDocument.objects.select_related("case").get(pk=record.document_id)
