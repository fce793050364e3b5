"""The per-user notification socket: desk notifications and room activity arrive
without a page load."""

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.rooms.conftest import router

pytestmark = pytest.mark.django_db(transaction=True)


async def open_socket(user, headers=()):
    communicator = WebsocketCommunicator(router, "/ws/notifications/", headers=list(headers))
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_signed_out_is_closed_with_4401():
    communicator = await open_socket(AnonymousUser())
    assert (await communicator.receive_output(timeout=3))["code"] == 4401


async def test_a_desk_notification_arrives_with_the_new_unread_count(people, django_capture_on_commit_callbacks):
    from mediation.services import work_orders as services
    from tests.factories import WorkOrderFactory

    head = people["head"]
    communicator = await open_socket(head)
    assert await communicator.receive_json_from(timeout=3) == {"type": "hello", "unread": 0}

    @database_sync_to_async
    def dispatch():
        order = WorkOrderFactory()
        services.dispatch_work_order(order=order, actor=people["liaison"], department=head.department)
        return order

    order = await dispatch()
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "notification" and frame["kind"] == "work_order.dispatched"
    assert frame["unread"] == 1 and order.number in frame["text"]
    assert frame["url"] == f"/orders/{order.number}/"
    await communicator.disconnect()


async def test_a_member_away_from_the_room_hears_of_new_messages(world, connect):
    away = await open_socket(world.defendant)
    await away.receive_json_from(timeout=3)
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    await plaintiff.send({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "Are you there?"})
    frame = await away.receive_json_from(timeout=5)
    assert frame == {
        "type": "room.activity",
        "room": world.joint.pk,
        "case": world.case.number,
        "kind": "joint",
        "text": f"New message in the joint room of case {world.case.number}.",
        "url": f"/rooms/{world.joint.pk}/",
    }
    await away.disconnect()


@database_sync_to_async
def second_plaintiff_member(world, language=""):
    """Another person on the plaintiff's side, who is not in the caucus now."""
    from django.db import transaction

    from mediation.services import cases
    from tests.factories import UserFactory

    user = UserFactory(full_name="Plaintiff in person", language=language)
    with transaction.atomic():
        cases.attach_participant(
            case=world.case, party=world.plaintiff_participant.party, user=user, role="party", actor=world.mediator
        )
    return user


@database_sync_to_async
def speak(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


async def test_a_caucus_message_reaches_the_mediator_and_that_side_at_once_and_never_the_other_side(world, connect):
    # The mediator reads in Chinese, the plaintiff's other member in English; the
    # defendant's side and the judge are connected too, and must hear nothing.
    await speak(world.mediator, "zh-hans")
    colleague = await second_plaintiff_member(world)
    listening = {}
    for name, user in [
        ("mediator", world.mediator),
        ("colleague", colleague),
        ("defendant", world.defendant),
        ("judge", world.judge),
    ]:
        listening[name] = await open_socket(user)
        await listening[name].receive_json_from(timeout=3)

    plaintiff, _ = await connect(world.plaintiff, world.plaintiff_caucus)
    await plaintiff.send(
        {"type": "message.send", "client_id": str(uuid.uuid4()), "body": "Our lowest offer is 300,000"}
    )

    to_mediator = await listening["mediator"].receive_json_from(timeout=5)
    assert to_mediator["type"] == "room.activity" and to_mediator["kind"] == "caucus_plaintiff"
    assert to_mediator["text"] == f"案件{world.case.number}的原告背对背调解室有新消息。"
    assert to_mediator["url"] == f"/rooms/{world.plaintiff_caucus.pk}/"
    to_colleague = await listening["colleague"].receive_json_from(timeout=5)
    assert to_colleague["text"] == f"New message in the plaintiff's caucus of case {world.case.number}."
    # Nothing of the caucus reaches the other side or the judge, by this channel.
    assert await listening["defendant"].receive_nothing(timeout=1)
    assert await listening["judge"].receive_nothing(timeout=0.3)
    for communicator in listening.values():
        await communicator.disconnect()


async def test_a_caucus_message_is_not_announced_to_the_mediator_already_in_the_caucus(world, connect):
    mediator_socket = await open_socket(world.mediator)
    await mediator_socket.receive_json_from(timeout=3)
    mediator_in_room, _ = await connect(world.mediator, world.defendant_caucus)
    defendant, _ = await connect(world.defendant, world.defendant_caucus)
    await defendant.send({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "Can we talk?"})
    await mediator_in_room.receive_until("message")

    assert await mediator_socket.receive_nothing(timeout=1)
    await mediator_socket.disconnect()


async def test_the_notification_socket_only_sends(people):
    communicator = await open_socket(people["judge"])
    await communicator.receive_json_from(timeout=3)
    await communicator.send_json_to({"type": "anything"})
    assert (await communicator.receive_json_from(timeout=3))["code"] == "read_only"
    await communicator.disconnect()


def test_wording_an_activity_announcement_costs_no_query(world, django_assert_num_queries):
    """Each member's socket words the announcement itself, from the room's kind and
    case number: a caucus message costs no query per member."""
    from asgiref.sync import async_to_sync

    from rooms.notification_socket import NotificationConsumer

    world.mediator.language = "zh-hans"
    consumer = NotificationConsumer()
    consumer.scope = {"user": world.mediator}
    sent = []

    async def send_json(content, close=False):
        sent.append(content)

    consumer.send_json = send_json
    event = {"type": "room.activity", "room": world.plaintiff_caucus.pk, "case": world.case.number}
    with django_assert_num_queries(0):
        async_to_sync(consumer.room_activity)({**event, "kind": "caucus_plaintiff"})

    assert sent[0]["text"] == f"案件{world.case.number}的原告背对背调解室有新消息。"


@pytest.mark.parametrize(
    ("chosen", "headers", "expected"),
    [
        # No language chosen on the account: the one the pages are in, from the
        # language cookie, else from the browser.
        ("", [(b"cookie", b"django_language=en")], "Mediation case CASE-1 was assigned to you."),
        ("", [(b"accept-language", b"en-GB,en;q=0.9")], "Mediation case CASE-1 was assigned to you."),
        ("", [(b"accept-language", b"zh-CN")], "调解案件CASE-1已分配给您。"),
        # The account's choice wins, as on the pages.
        ("zh-hans", [(b"accept-language", b"en")], "调解案件CASE-1已分配给您。"),
    ],
)
async def test_a_pushed_notification_reads_in_the_language_of_the_readers_pages(people, chosen, headers, expected):
    from mediation.notifications import notify

    mediator = people["mediator"]
    mediator.language = chosen
    await database_sync_to_async(mediator.save)(update_fields=["language"])
    communicator = await open_socket(mediator, headers)
    await communicator.receive_json_from(timeout=3)

    @database_sync_to_async
    def assign():
        from django.db import transaction

        with transaction.atomic():
            notify(recipients=[mediator], kind="case.assigned", params={"number": "CASE-1"}, url="/", email=False)

    await assign()
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "notification" and frame["text"] == expected
    await communicator.disconnect()
