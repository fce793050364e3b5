"""Demo conversation in the report's case: a few messages in the joint room and in
each side's caucus. Idempotent: nothing is posted to a room that has messages."""

import uuid

from django.db import transaction

from mediation.demo import DEMO_SOURCE
from mediation.models import MediationCase, RoomKind
from rooms.membership import member_of
from rooms.models import Room, RoomEntry
from rooms.store import PostRequest, store_messages

CONVERSATIONS = {
    RoomKind.JOINT: [
        ("mediator", "各位好，我是本案调解员刘洋。今天先请双方简要说明意见。"),
        ("plaintiff", "我方已按合同交付全部视频并通过验收，被告应支付制作费50万元。公司急需这笔钱发工资。"),
        ("defendant", "我们认可视频已交付，但近期资金紧张，希望能分期支付。"),
    ],
    RoomKind.CAUCUS_PLAINTIFF: [
        ("mediator", "王律师，如果被告同意尽快付款，贵方能否接受分期？"),
        ("plaintiff", "可以考虑分两期，但第一期要在本月底前支付，金额不少于30万元。"),
    ],
    RoomKind.CAUCUS_DEFENDANT: [
        ("mediator", "赵总，原告表示可以接受分两期付款。贵方最快什么时候能付第一期？"),
        ("defendant", "月底前可以先付30万元，余款下月底前付清。"),
    ],
}


def _speaker(case: MediationCase, who: str):
    if who == "mediator":
        return case.mediator
    return case.participants.filter(removed_at__isnull=True, party__side=who).select_related("user").first().user


@transaction.atomic
def seed(stdout) -> None:
    case = MediationCase.objects.filter(
        work_order__external_source=DEMO_SOURCE, work_order__external_id="demo-01"
    ).first()
    if case is None:
        return
    posted = 0
    for kind, lines in CONVERSATIONS.items():
        room = Room.objects.get(case=case, kind=kind)
        if RoomEntry.objects.filter(room=room, kind=RoomEntry.MESSAGE).exists():
            continue
        requests = [
            PostRequest(room_id=room.pk, author=member_of(_speaker(case, who), room), client_id=uuid.uuid4(), body=text)
            for who, text in lines
        ]
        posted += sum(result.outcome == "stored" for result in store_messages(requests))
    stdout.write(f"demo room messages posted: {posted}")
