"""The rooms after the agreement's seal: closed to new messages after the grace period,
their whole history readable by their members (read-only, with a banner saying the
case is settled); the joint room reopened to talk about performance by the mediator
(or for a judicial review by the judge), the caucus rooms staying closed; membership
as before."""

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry
from mediation.roles import Role
from mediation.services import cases
from rooms import store as room_store
from rooms.membership import member_of
from rooms.models import Room, RoomEntry
from rooms.services import (
    FOLLOW_UP_REASONS,
    close_room,
    may_reopen_for_follow_up,
    reopen_for_follow_up,
    reopen_room,
    schedule_rooms_closing,
)
from tests.cases import make_case
from tests.factories import UserFactory, staff

SETTLED_BANNER = "This mediation is settled; the room is kept for the record."


def settle(world, *, grace_over=True):
    """What sealing the agreement does to the case and its rooms: the case is settled
    and its rooms set to close after a grace period, which is then over unless told
    otherwise (the clock moved on: `closes_at` in the past)."""
    with transaction.atomic():
        cases.start_mediation(case=world.case, actor=world.mediator)
        cases.settle_case(case=world.case, actor=None, note="Settled by the sealed agreement.")
        schedule_rooms_closing(case=world.case, at=timezone.now() + dt.timedelta(minutes=90), reason="agreement_sealed")
    if grace_over:
        Room.objects.filter(case=world.case).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    world.case.refresh_from_db()


def post(user, room, body="Hello"):
    """Store a message as the socket would."""
    [result] = room_store.store_messages(
        [room_store.PostRequest(room_id=room.pk, author=member_of(user, room), client_id=uuid.uuid4(), body=body)]
    )
    return result


def fresh(room) -> Room:
    return Room.objects.select_related("case").get(pk=room.pk)


@pytest.fixture
def case_world(db, mediator, judge):
    return make_case(mediator, judge)


@pytest.fixture
def talked_and_settled(case_world):
    """Both sides and the mediator spoke in the joint room and the caucuses, then the
    agreement was sealed and the grace period has passed."""
    world = case_world
    for user, body in ((world.plaintiff, "We ask 500,000."), (world.defendant, "We offer 300,000.")):
        assert post(user, world.joint, body).outcome == "stored"
    assert post(world.mediator, world.joint, "Shall we say three instalments?").outcome == "stored"
    assert post(world.plaintiff, world.plaintiff_caucus, "Only for the mediator.").outcome == "stored"
    settle(world)
    return world


# Reading after the seal --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["plaintiff", "defendant", "mediator", "judge"])
def test_after_the_seal_every_member_reads_the_whole_joint_history_but_cannot_post(client, talked_and_settled, who):
    world = talked_and_settled
    user = getattr(world, who)
    client.force_login(user)

    page = client.get(reverse("room", args=[world.joint.pk]))
    history = client.get(reverse("api_room_history", args=[world.joint.pk]), {"limit": 200})

    assert page.status_code == 200
    html = page.content.decode()
    assert SETTLED_BANNER in html
    assert "data-composer" not in html
    bodies = [entry.get("body") for entry in history.json()["entries"] if entry["type"] == "message"]
    assert bodies == ["We ask 500,000.", "We offer 300,000.", "Shall we say three instalments?"]
    assert "room.closing" in [entry.get("kind") for entry in history.json()["entries"]]
    assert post(user, world.joint, "One more thing").outcome == "refused"


@pytest.mark.django_db
def test_the_settled_banner_is_in_the_readers_language(client, talked_and_settled):
    client.force_login(talked_and_settled.plaintiff)

    page = client.get(reverse("room", args=[talked_and_settled.joint.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "本案已调解成功，调解室保留备查。" in page.content.decode()
    assert SETTLED_BANNER not in page.content.decode()


@pytest.mark.django_db
def test_an_open_cases_closed_room_has_no_settled_banner(client, case_world):
    close_room(room=case_world.joint, actor=case_world.mediator)
    client.force_login(case_world.plaintiff)

    html = client.get(reverse("room", args=[case_world.joint.pk])).content.decode()

    assert "This room is closed" in html and SETTLED_BANNER not in html


@pytest.mark.django_db
def test_after_the_seal_membership_is_as_before(client, talked_and_settled):
    world = talked_and_settled
    stranger = UserFactory(full_name="Stranger")
    other = make_case(world.mediator, None, label="B")

    client.force_login(world.plaintiff)
    caucus = client.get(reverse("api_room_history", args=[world.plaintiff_caucus.pk]))
    assert [e["body"] for e in caucus.json()["entries"] if e["type"] == "message"] == ["Only for the mediator."]

    for user, room in (
        (world.defendant, world.plaintiff_caucus),
        (world.plaintiff, world.defendant_caucus),
        (world.judge, world.plaintiff_caucus),
        (stranger, world.joint),
        (other.plaintiff, world.joint),
    ):
        client.force_login(user)
        assert client.get(reverse("room", args=[room.pk])).status_code == 404
        assert client.get(reverse("api_room_history", args=[room.pk])).status_code == 404


# Reopening for performance -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mediator_reopens_the_joint_room_for_performance_and_the_parties_post_again(talked_and_settled):
    world = talked_and_settled

    reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="performance")

    room = fresh(world.joint)
    assert (room.closed_at, room.closes_at, room.is_closed) == (None, None, False)
    # The closing set at the seal does not come back later.
    assert not room.is_closed_at(timezone.now() + dt.timedelta(days=30))
    event = RoomEntry.objects.filter(room=room, kind="room.reopened").get()
    assert event.data["reason"] == "performance"
    assert (event.data["actor"]["id"], event.data["actor"]["role"]) == (world.mediator.pk, "mediator")
    audit = AuditEntry.objects.filter(action="room.reopen", target_id=str(room.pk)).get()
    assert (audit.actor_id, audit.data["reason"]) == (world.mediator.pk, "performance")
    assert post(world.defendant, world.joint, "The first instalment is paid.").outcome == "stored"
    # The caucuses stay closed.
    assert fresh(world.plaintiff_caucus).is_closed and fresh(world.defendant_caucus).is_closed
    assert post(world.plaintiff, world.plaintiff_caucus, "Hello?").outcome == "refused"


@pytest.mark.django_db
def test_the_mediator_can_close_the_reopened_room_again(talked_and_settled):
    world = talked_and_settled
    reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="performance")

    close_room(room=world.joint, actor=world.mediator)

    assert fresh(world.joint).is_closed
    assert RoomEntry.objects.filter(room=world.joint, kind="room.closed").count() == 1
    assert post(world.plaintiff, world.joint, "Hello?").outcome == "refused"
    # And open it again.
    reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="performance")
    assert not fresh(world.joint).is_closed


@pytest.mark.django_db
def test_during_the_grace_period_reopening_lifts_the_pending_closing(case_world):
    settle(case_world, grace_over=False)

    reopen_for_follow_up(room=case_world.joint, actor=case_world.mediator, reason="performance")

    assert fresh(case_world.joint).closes_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["judge", "mediator"])
def test_the_judge_or_the_mediator_reopens_the_joint_room_for_a_judicial_review(talked_and_settled, who):
    world = talked_and_settled
    actor = getattr(world, who)

    reopen_for_follow_up(room=world.joint, actor=actor, reason="judicial_review")

    assert not fresh(world.joint).is_closed
    event = RoomEntry.objects.filter(room=world.joint, kind="room.reopened").get()
    assert (event.data["reason"], event.data["actor"]["id"], event.data["actor"]["role"]) == (
        "judicial_review",
        actor.pk,
        who,
    )
    assert AuditEntry.objects.filter(action="room.reopen", actor_id=actor.pk, data__reason="judicial_review").exists()


REFUSALS = [
    ("plaintiff", "joint", "performance", ActionForbidden, "mediator or judge"),
    ("defendant", "joint", "judicial_review", ActionForbidden, "mediator or judge"),
    ("other mediator", "joint", "performance", ActionForbidden, "mediator or judge"),
    ("other judge", "joint", "judicial_review", ActionForbidden, "mediator or judge"),
    ("judge", "joint", "performance", ActionForbidden, "Only the case's mediator can reopen"),
    ("mediator", "plaintiff_caucus", "performance", TransitionNotAllowed, "caucus room stays closed"),
    ("mediator", "defendant_caucus", "performance", TransitionNotAllowed, "caucus room stays closed"),
    ("judge", "plaintiff_caucus", "judicial_review", TransitionNotAllowed, "caucus room stays closed"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "room_name", "reason", "error", "message"), REFUSALS)
def test_who_may_not_reopen_which_room_is_refused_and_nothing_changes(
    talked_and_settled, people, who, room_name, reason, error, message
):
    world = talked_and_settled
    actor = {
        "other mediator": staff(Role.MEDIATOR, None, full_name="Gao Yan"),
        "other judge": people["other_judge"],
    }.get(who) or getattr(world, who)
    room = getattr(world, room_name)
    before = fresh(room).closes_at
    entries = RoomEntry.objects.count()

    with pytest.raises(error, match=message):
        reopen_for_follow_up(room=room, actor=actor, reason=reason)

    assert fresh(room).closes_at == before and fresh(room).is_closed
    assert RoomEntry.objects.count() == entries
    assert not AuditEntry.objects.filter(action="room.reopen").exists()


@pytest.mark.django_db
def test_an_open_cases_room_is_not_reopened_this_way(case_world):
    close_room(room=case_world.joint, actor=case_world.mediator)

    with pytest.raises(TransitionNotAllowed, match="settled case"):
        reopen_for_follow_up(room=case_world.joint, actor=case_world.mediator, reason="performance")

    assert fresh(case_world.joint).is_closed
    # The open case's own way still works.
    reopen_room(room=case_world.joint, actor=case_world.mediator)
    event = RoomEntry.objects.filter(room=case_world.joint, kind="room.reopened").get()
    assert event.data["reason"] is None


@pytest.mark.django_db
def test_a_settled_cases_room_is_not_reopened_the_open_cases_way(talked_and_settled):
    with pytest.raises(TransitionNotAllowed, match="stay closed"):
        reopen_room(room=talked_and_settled.joint, actor=talked_and_settled.mediator)
    assert fresh(talked_and_settled.joint).is_closed


@pytest.mark.django_db
def test_an_open_room_or_an_unknown_reason_is_refused(talked_and_settled):
    world = talked_and_settled
    with pytest.raises(ValueError):
        reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="chat")
    assert fresh(world.joint).is_closed

    reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="performance")
    with pytest.raises(TransitionNotAllowed, match="open"):
        reopen_for_follow_up(room=world.joint, actor=world.mediator, reason="performance")
    assert RoomEntry.objects.filter(room=world.joint, kind="room.reopened").count() == 1


@pytest.mark.django_db
def test_the_rule_says_who_may_reopen_for_which_reason(case_world, people):
    world = case_world
    other_mediator = staff(Role.MEDIATOR, None, full_name="Gao Yan")
    everyone = {
        "mediator": world.mediator,
        "judge": world.judge,
        "plaintiff": world.plaintiff,
        "defendant": world.defendant,
        "other mediator": other_mediator,
        "other judge": people["other_judge"],
    }
    expected = {("mediator", "performance"), ("mediator", "judicial_review"), ("judge", "judicial_review")}

    assert not any(may_reopen_for_follow_up(user, world.case, "performance") for user in everyone.values())
    settle(world)
    allowed = {
        (name, reason)
        for name, user in everyone.items()
        for reason in (*FOLLOW_UP_REASONS, "chat")
        if may_reopen_for_follow_up(user, world.case, reason)
    }
    assert allowed == expected


# The room page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mediator_reopens_the_settled_joint_room_from_its_page(client, talked_and_settled):
    world = talked_and_settled
    client.force_login(world.mediator)
    page = client.get(reverse("room", args=[world.joint.pk])).content.decode()
    assert "Reopen the room to talk about performance" in page

    response = client.post(reverse("room_control", args=[world.joint.pk, "reopen"]), follow=True)

    assert response.status_code == 200
    assert "to talk about performing the agreement" in response.content.decode()
    assert "data-composer" in response.content.decode()
    event = RoomEntry.objects.filter(room=world.joint, kind="room.reopened").get()
    assert event.data["reason"] == "performance"


@pytest.mark.django_db
def test_the_settled_caucus_page_offers_no_reopening_and_posting_one_changes_nothing(client, talked_and_settled):
    world = talked_and_settled
    client.force_login(world.mediator)
    page = client.get(reverse("room", args=[world.plaintiff_caucus.pk])).content.decode()
    assert "Reopen the room" not in page
    assert "A caucus room stays closed once the case is settled." in page

    response = client.post(reverse("room_control", args=[world.plaintiff_caucus.pk, "reopen"]), follow=True)

    assert "caucus room stays closed" in response.content.decode()
    assert fresh(world.plaintiff_caucus).is_closed
    assert not RoomEntry.objects.filter(kind="room.reopened").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["plaintiff", "defendant", "judge"])
def test_no_one_but_the_mediator_reopens_from_the_page(client, talked_and_settled, who):
    world = talked_and_settled
    client.force_login(getattr(world, who))
    assert "Reopen the room" not in client.get(reverse("room", args=[world.joint.pk])).content.decode()

    response = client.post(reverse("room_control", args=[world.joint.pk, "reopen"]))

    assert response.status_code == 404
    assert fresh(world.joint).is_closed


# Over a real socket ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_party_posts_in_the_reopened_joint_room_over_the_socket(world, connect):
    from channels.db import database_sync_to_async

    await database_sync_to_async(settle)(world)
    _closed, code = await connect(world.plaintiff, world.joint)
    assert code == 4408

    await database_sync_to_async(reopen_for_follow_up)(room=world.joint, actor=world.mediator, reason="performance")
    plaintiff, code = await connect(world.plaintiff, world.joint)
    defendant, _ = await connect(world.defendant, world.joint)
    assert code is None

    await defendant.send({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "Paid today."})
    frame = await plaintiff.receive_until("message")

    assert frame["body"] == "Paid today." and frame["author"]["id"] == world.defendant.pk
    _caucus, code = await connect(world.plaintiff, world.plaintiff_caucus)
    assert code == 4408
