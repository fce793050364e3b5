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
    assert frame == {"type": "room.activity", "room": world.joint.pk, "case": world.case.number}
    await away.disconnect()


async def test_the_notification_socket_only_sends(people):
    communicator = await open_socket(people["judge"])
    await communicator.receive_json_from(timeout=3)
    await communicator.send_json_to({"type": "anything"})
    assert (await communicator.receive_json_from(timeout=3))["code"] == "read_only"
    await communicator.disconnect()


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
