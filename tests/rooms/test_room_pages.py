"""The room page, the mediator's controls, the rooms API and the pages a party sees.
A party sees only their own case, and in it the joint room and their own side's
caucus: these tests prove the negatives too."""

import datetime as dt
import json
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from mediation.models import Invitation, RoomKind
from mediation.services import cases, invitations, sessions
from rooms import services as room_services
from rooms import store as room_store
from rooms.membership import member_of
from rooms.models import Room, RoomEntry, RoomMute
from tests.cases import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIDES = ["plaintiff", "defendant"]
OTHER_SIDE = {"plaintiff": "defendant", "defendant": "plaintiff"}


@pytest.fixture
def case_world(mediator, judge):
    return make_case(mediator, judge)


@pytest.fixture
def other_case_world(case_world):
    return make_case(case_world.mediator, None, label="B")


@pytest.fixture
def stranger(db):
    return UserFactory(full_name="Stranger")


def caucus_of(world, side):
    return world.plaintiff_caucus if side == "plaintiff" else world.defendant_caucus


def room_url(room):
    return reverse("room", args=[room.pk])


def control_url(room, action):
    return reverse("room_control", args=[room.pk, action])


def history_url(room):
    return reverse("api_room_history", args=[room.pk])


def post(user, room, body="Hello"):
    """Store a message as the socket would."""
    [result] = room_store.store_messages(
        [room_store.PostRequest(room_id=room.pk, author=member_of(user, room), client_id=uuid.uuid4(), body=body)]
    )
    assert result.outcome == "stored", result
    return result


def room_ids_named_in(html: str) -> set[int]:
    """Every room id the page names: links, tabs, unread badges, the client's config."""
    found = set()
    for pattern in (
        r"/rooms/(\d+)/",
        r'data-room-tab="(\d+)"',
        r'data-unread-for="(\d+)"',
        r'"roomId":\s*(\d+)',
    ):
        found.update(int(value) for value in re.findall(pattern, html))
    return found


def client_config(html: str) -> dict:
    match = re.search(r'<script id="room-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no room config on the page"
    return json.loads(match.group(1))


# The room page ----------------------------------------------------------------------


def test_the_mediator_sees_all_three_rooms_as_tabs(client, case_world):
    client.force_login(case_world.mediator)
    response = client.get(room_url(case_world.joint))
    assert response.status_code == 200
    assert [tab.kind for tab in response.context["tabs"]] == [
        RoomKind.JOINT,
        RoomKind.CAUCUS_PLAINTIFF,
        RoomKind.CAUCUS_DEFENDANT,
    ]
    html = response.content.decode()
    assert room_ids_named_in(html) == {
        case_world.joint.pk,
        case_world.plaintiff_caucus.pk,
        case_world.defendant_caucus.pk,
    }
    assert client_config(html)["me"]["role"] == "mediator"


def test_the_judge_sees_only_the_joint_room(client, case_world):
    client.force_login(case_world.judge)
    response = client.get(room_url(case_world.joint))
    assert response.status_code == 200
    assert [tab.pk for tab in response.context["tabs"]] == [case_world.joint.pk]
    html = response.content.decode()
    assert room_ids_named_in(html) == {case_world.joint.pk}
    assert "caucus" not in html.lower()
    for caucus in (case_world.plaintiff_caucus, case_world.defendant_caucus):
        assert client.get(room_url(caucus)).status_code == 404


@pytest.mark.parametrize("side", SIDES)
def test_a_party_sees_the_joint_room_and_their_own_caucus_only(client, case_world, side):
    user, own, other = getattr(case_world, side), caucus_of(case_world, side), caucus_of(case_world, OTHER_SIDE[side])
    client.force_login(user)

    for room in (case_world.joint, own):
        response = client.get(room_url(room))
        assert response.status_code == 200
        assert [tab.pk for tab in response.context["tabs"]] == [case_world.joint.pk, own.pk]
        html = response.content.decode()
        # No link, no tab, no id, no name of the other side's caucus.
        assert room_ids_named_in(html) == {case_world.joint.pk, own.pk}
        assert other.kind not in html
        assert f"{OTHER_SIDE[side].capitalize()} caucus" not in html
        config = client_config(html)
        assert config["roomId"] == room.pk
        assert str(other.pk) not in json.dumps({key: config[key] for key in ("roomId", "socketPath", "historyUrl")})

    assert client.get(room_url(other)).status_code == 404


def test_the_caucus_page_lists_only_that_side_and_the_mediator(client, case_world):
    client.force_login(case_world.defendant)
    members = client.get(room_url(case_world.defendant_caucus)).context["members"]
    assert {member.id for member in members} == {case_world.mediator.pk, case_world.defendant.pk}
    html = client.get(room_url(case_world.defendant_caucus)).content.decode()
    assert case_world.plaintiff.full_name not in html
    assert case_world.judge.full_name not in html


def test_the_joint_room_lists_everyone(client, case_world):
    client.force_login(case_world.plaintiff)
    members = client.get(room_url(case_world.joint)).context["members"]
    assert {member.id for member in members} == {
        case_world.mediator.pk,
        case_world.judge.pk,
        case_world.plaintiff.pk,
        case_world.defendant.pk,
    }


@pytest.mark.parametrize("room_name", ["joint", "plaintiff_caucus", "defendant_caucus"])
def test_strangers_and_parties_of_other_cases_get_404(client, case_world, other_case_world, stranger, room_name):
    room = getattr(case_world, room_name)
    for outsider in (stranger, other_case_world.plaintiff, other_case_world.defendant):
        client.force_login(outsider)
        assert client.get(room_url(room)).status_code == 404
        assert client.get(history_url(room)).status_code == 404


def test_a_removed_participant_can_no_longer_open_their_rooms(client, case_world):
    client.force_login(case_world.plaintiff)
    assert client.get(room_url(case_world.plaintiff_caucus)).status_code == 200

    cases.remove_participant(participant=case_world.plaintiff_participant, actor=case_world.mediator, reason="Replaced")

    for room in (case_world.joint, case_world.plaintiff_caucus):
        assert client.get(room_url(room)).status_code == 404
        assert client.get(history_url(room)).status_code == 404
    assert client.get(reverse("api_my_rooms")).json() == []


def test_a_missing_room_is_404(client, case_world):
    client.force_login(case_world.mediator)
    assert client.get(reverse("room", args=[999999])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, case_world):
    response = client.get(room_url(case_world.joint))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_parties_see_no_mediator_controls(client, case_world):
    client.force_login(case_world.plaintiff)
    html = client.get(room_url(case_world.joint)).content.decode()
    assert "/close/" not in html and "/mute/" not in html
    client.force_login(case_world.mediator)
    html = client.get(room_url(case_world.joint)).content.decode()
    assert control_url(case_world.joint, "close") in html
    assert control_url(case_world.joint, "mute") in html


# Mediator controls ------------------------------------------------------------------


def test_the_mediator_closes_and_reopens_a_room(client, case_world):
    client.force_login(case_world.mediator)
    room = case_world.plaintiff_caucus

    closed = client.post(control_url(room, "close"))
    page = client.get(room_url(room))

    assert closed.status_code == 302
    assert closed["Location"] == room_url(room)
    assert Room.objects.get(pk=room.pk).closed_by == case_world.mediator
    assert RoomEntry.objects.filter(room=room, kind="room.closed").count() == 1
    assert "This room is closed" in page.content.decode()
    assert "data-composer" not in page.content.decode()
    assert client_config(page.content.decode())["closed"] is True

    reopened = client.post(control_url(room, "reopen"))

    assert reopened.status_code == 302
    assert Room.objects.get(pk=room.pk).closed_at is None
    assert RoomEntry.objects.filter(room=room, kind="room.reopened").count() == 1


def test_closing_a_closed_room_changes_nothing(client, case_world):
    client.force_login(case_world.mediator)
    client.post(control_url(case_world.joint, "close"))
    entries = RoomEntry.objects.count()

    response = client.post(control_url(case_world.joint, "close"), follow=True)

    assert "already closed" in response.content.decode()
    assert RoomEntry.objects.count() == entries


def test_the_mediator_mutes_and_unmutes_a_participant(client, case_world):
    client.force_login(case_world.mediator)
    room = case_world.joint

    client.post(control_url(room, "mute"), {"user": case_world.defendant.pk})

    assert RoomMute.objects.filter(room=room, user=case_world.defendant, lifted_at__isnull=True).exists()
    assert "Muted" in client.get(room_url(room)).content.decode()
    [refused] = room_store.store_messages(
        [
            room_store.PostRequest(
                room_id=room.pk, author=member_of(case_world.defendant, room), client_id=uuid.uuid4(), body="Hi"
            )
        ]
    )
    assert (refused.outcome, refused.code) == ("refused", "muted")

    client.post(control_url(room, "unmute"), {"user": case_world.defendant.pk})

    assert not RoomMute.objects.filter(room=room, lifted_at__isnull=True).exists()
    post(case_world.defendant, room, "May I speak now?")


def test_the_judge_cannot_be_muted(client, case_world):
    client.force_login(case_world.mediator)
    response = client.post(control_url(case_world.joint, "mute"), {"user": case_world.judge.pk}, follow=True)
    assert "can be muted" in response.content.decode()
    assert not RoomMute.objects.exists()


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant", "other_mediator", "stranger"])
@pytest.mark.parametrize("action", ["close", "reopen", "mute", "unmute"])
def test_only_the_cases_mediator_uses_the_controls(client, case_world, other_case_world, stranger, who, action):
    room = case_world.joint
    if action in ("reopen",):
        room_services.close_room(room=room, actor=case_world.mediator)
    if action == "unmute":
        room_services.mute_participant(room=room, actor=case_world.mediator, user=case_world.plaintiff)
    actor = {
        "judge": case_world.judge,
        "plaintiff": case_world.plaintiff,
        "defendant": case_world.defendant,
        "other_mediator": None,
        "stranger": stranger,
    }[who]
    if actor is None:
        from mediation.roles import Role
        from tests.factories import staff

        actor = staff(Role.MEDIATOR, case_world.mediator.department)
    before = (
        Room.objects.get(pk=room.pk).closed_at,
        list(RoomMute.objects.values_list("id", "lifted_at")),
        RoomEntry.objects.count(),
    )
    client.force_login(actor)

    response = client.post(control_url(room, action), {"user": case_world.plaintiff.pk})

    assert response.status_code == 404
    assert (
        Room.objects.get(pk=room.pk).closed_at,
        list(RoomMute.objects.values_list("id", "lifted_at")),
        RoomEntry.objects.count(),
    ) == before


def test_controls_are_posted_not_fetched_and_unknown_ones_are_404(client, case_world):
    client.force_login(case_world.mediator)
    assert client.get(control_url(case_world.joint, "close")).status_code == 405
    assert client.post(control_url(case_world.joint, "explode")).status_code == 404
    assert Room.objects.get(pk=case_world.joint.pk).closed_at is None


# GET /api/v1/me/rooms/ --------------------------------------------------------------


def my_rooms(client, user):
    client.force_login(user)
    response = client.get(reverse("api_my_rooms"))
    assert response.status_code == 200
    return response.json()


def test_the_mediator_may_enter_all_three_rooms(client, case_world):
    rooms = my_rooms(client, case_world.mediator)
    assert [(room["id"], room["kind"]) for room in rooms] == [
        (case_world.joint.pk, "joint"),
        (case_world.plaintiff_caucus.pk, "caucus_plaintiff"),
        (case_world.defendant_caucus.pk, "caucus_defendant"),
    ]
    for room in rooms:
        assert room["case"] == {"id": case_world.case.pk, "number": case_world.case.number}
        assert room["closed"] is False
        assert set(room) == {"id", "kind", "case", "closed", "unread", "last_seq"}


def test_the_judge_may_enter_only_the_joint_room(client, case_world):
    assert [room["id"] for room in my_rooms(client, case_world.judge)] == [case_world.joint.pk]


@pytest.mark.parametrize("side", SIDES)
def test_each_side_may_enter_the_joint_room_and_its_own_caucus(client, case_world, other_case_world, side):
    rooms = my_rooms(client, getattr(case_world, side))
    assert [(room["id"], room["kind"]) for room in rooms] == [
        (case_world.joint.pk, "joint"),
        (caucus_of(case_world, side).pk, f"caucus_{side}"),
    ]


def test_a_stranger_may_enter_no_room(client, case_world, stranger):
    assert my_rooms(client, stranger) == []


def test_signed_out_the_rooms_api_refuses(client, case_world):
    assert client.get(reverse("api_my_rooms")).status_code in (401, 403)
    assert client.get(history_url(case_world.joint)).status_code in (401, 403)


def test_a_mediator_of_two_cases_sees_the_rooms_of_both(client, case_world, other_case_world):
    rooms = my_rooms(client, case_world.mediator)
    assert {room["case"]["number"] for room in rooms} == {case_world.case.number, other_case_world.case.number}
    assert len(rooms) == 6


def test_a_closed_room_is_flagged(client, case_world):
    room_services.close_room(room=case_world.joint, actor=case_world.mediator)
    rooms = {room["kind"]: room for room in my_rooms(client, case_world.plaintiff)}
    assert (rooms["joint"]["closed"], rooms["caucus_plaintiff"]["closed"]) == (True, False)


def test_unread_counts_messages_by_others_after_the_read_mark(client, case_world):
    joint, caucus = case_world.joint, case_world.plaintiff_caucus
    post(case_world.mediator, joint, "Welcome")
    post(case_world.defendant, joint, "Hello")
    own = post(case_world.plaintiff, joint, "Good morning")
    post(case_world.mediator, caucus, "Just us here")
    last = post(case_world.defendant, joint, "Shall we start?")

    unread = {room["kind"]: room["unread"] for room in my_rooms(client, case_world.plaintiff)}
    # Events (joined) and one's own messages are not unread.
    assert unread == {"joint": 3, "caucus_plaintiff": 1}

    room_services.mark_read(room_id=joint.pk, user=case_world.plaintiff, seq=own.seq)
    rooms = {room["kind"]: room for room in my_rooms(client, case_world.plaintiff)}
    assert rooms["joint"]["unread"] == 1
    assert rooms["joint"]["last_seq"] == last.seq

    room_services.mark_read(room_id=joint.pk, user=case_world.plaintiff, seq=last.seq)
    assert {room["kind"]: room["unread"] for room in my_rooms(client, case_world.plaintiff)} == {
        "joint": 0,
        "caucus_plaintiff": 1,
    }
    # The defendant has read nothing: the mediator's and the plaintiff's joint messages.
    assert {room["kind"]: room["unread"] for room in my_rooms(client, case_world.defendant)} == {
        "joint": 2,
        "caucus_defendant": 0,
    }


# History API -----------------------------------------------------------------------


def test_history_pages_backwards_oldest_first(client, case_world):
    room = case_world.joint
    for number in range(7):
        post(case_world.mediator if number % 2 else case_world.plaintiff, room, f"message {number}")
    last_seq = Room.objects.get(pk=room.pk).last_seq
    client.force_login(case_world.defendant)

    newest = client.get(history_url(room), {"limit": 3}).json()["entries"]
    older = client.get(history_url(room), {"before": newest[0]["seq"], "limit": 3}).json()["entries"]
    everything = client.get(history_url(room), {"limit": 200}).json()["entries"]

    assert [entry["seq"] for entry in newest] == [last_seq - 2, last_seq - 1, last_seq]
    assert [entry["body"] for entry in newest] == ["message 4", "message 5", "message 6"]
    assert [entry["seq"] for entry in older] == [last_seq - 5, last_seq - 4, last_seq - 3]
    assert [entry["seq"] for entry in everything] == list(range(1, last_seq + 1))
    # System events share the sequence with messages.
    assert {entry["type"] for entry in everything} == {"event", "message"}
    assert everything[0]["kind"] == "participant.joined"
    message = newest[-1]
    assert set(message) == {"type", "seq", "author", "body", "sent_at", "client_id"}
    assert message["author"]["id"] == case_world.plaintiff.pk


def test_history_limits_are_kept_within_bounds(client, case_world):
    room = case_world.joint
    for number in range(3):
        post(case_world.mediator, room, f"message {number}")
    client.force_login(case_world.mediator)

    assert len(client.get(history_url(room), {"limit": 0}).json()["entries"]) == 1
    assert client.get(history_url(room), {"before": 1}).json()["entries"] == []
    assert client.get(history_url(room), {"before": "soon"}).status_code == 400
    assert client.get(history_url(room), {"limit": "many"}).status_code == 400


@pytest.mark.parametrize("side", SIDES)
def test_history_of_the_other_sides_caucus_is_404(client, case_world, side):
    other = caucus_of(case_world, OTHER_SIDE[side])
    post(case_world.mediator, other, "Confidential offer")
    client.force_login(getattr(case_world, side))

    response = client.get(history_url(other))

    assert response.status_code == 404
    assert "Confidential offer" not in response.content.decode()


def test_the_judge_reads_no_caucus_history(client, case_world):
    client.force_login(case_world.judge)
    assert client.get(history_url(case_world.joint)).status_code == 200
    assert client.get(history_url(case_world.plaintiff_caucus)).status_code == 404
    assert client.get(reverse("api_room_history", args=[999999])).status_code == 404


# Case pages, my cases, home ---------------------------------------------------------


def test_a_partys_case_page_shows_parties_and_sessions_but_not_invitations_or_the_timeline(client, case_world):
    invitations.invite_participant(
        case=case_world.case,
        actor=case_world.mediator,
        party=case_world.case.parties.get(side="defendant"),
        role="agent",
        full_name="Secret Lawyer",
        phone="13912345678",
        email="secret.lawyer@example.test",
    )
    session = sessions.schedule_session(
        case=case_world.case,
        actor=case_world.mediator,
        starts_at=timezone.now() + dt.timedelta(days=2),
        note="First joint session",
    )
    client.force_login(case_world.plaintiff)

    response = client.get(reverse("case_detail", args=[case_world.case.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for party in case_world.case.parties.all():
        assert party.name in html
    # The session is listed; the mediator's note on it is for court staff only.
    assert timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M") in html
    assert "First joint session" not in html
    assert "secret.lawyer@example.test" not in html
    assert "Secret Lawyer" not in html and "1234 5678" not in html
    assert 'id="invitations-heading"' not in html
    assert 'id="case-timeline-heading"' not in html
    # A party acts on the case only to ask for another mediator (申请回避).
    assert set(response.context["action_forms"]) == {"request_recusal"}
    assert list(response.context["invitations"]) == []
    assert list(response.context["timeline"]) == []
    # Room links: the joint room and the plaintiff's caucus only.
    assert room_ids_named_in(html) == {case_world.joint.pk, case_world.plaintiff_caucus.pk}

    client.force_login(case_world.mediator)
    html = client.get(reverse("case_detail", args=[case_world.case.pk])).content.decode()
    assert "Secret Lawyer" in html and "139 1234 5678" in html
    assert 'id="case-timeline-heading"' in html
    assert Invitation.objects.count() == 1


def test_the_defendants_case_page_hides_the_plaintiff_caucus(client, case_world):
    client.force_login(case_world.defendant)
    html = client.get(reverse("case_detail", args=[case_world.case.pk])).content.decode()
    assert room_ids_named_in(html) == {case_world.joint.pk, case_world.defendant_caucus.pk}
    assert "Plaintiff caucus" not in html


def test_a_party_cannot_open_another_case(client, case_world, other_case_world, stranger):
    client.force_login(case_world.plaintiff)
    assert client.get(reverse("case_detail", args=[other_case_world.case.pk])).status_code == 404
    client.force_login(stranger)
    assert client.get(reverse("case_detail", args=[case_world.case.pk])).status_code == 404


def test_my_cases_lists_only_the_users_own_cases(client, case_world, other_case_world):
    client.force_login(case_world.defendant)

    response = client.get(reverse("my_cases"))

    html = response.content.decode()
    assert list(response.context["cases"]) == [case_world.case]
    assert case_world.case.number in html
    assert other_case_world.case.number not in html
    assert room_ids_named_in(html) == {case_world.joint.pk, case_world.defendant_caucus.pk}


def test_my_cases_is_empty_after_removal(client, case_world):
    cases.remove_participant(participant=case_world.defendant_participant, actor=case_world.mediator, reason="Gone")
    client.force_login(case_world.defendant)
    assert list(client.get(reverse("my_cases")).context["cases"]) == []


def test_the_home_page_sends_a_party_to_their_cases_and_a_mediator_to_the_case_list(client, case_world):
    client.force_login(case_world.plaintiff)
    assert client.get(reverse("home"))["Location"] == reverse("my_cases")
    client.force_login(case_world.mediator)
    assert client.get(reverse("home"))["Location"] == reverse("case_list")


def test_a_removed_participant_lands_on_the_plain_home_page(client, case_world):
    cases.remove_participant(participant=case_world.plaintiff_participant, actor=case_world.mediator, reason="Gone")
    client.force_login(case_world.plaintiff)
    assert client.get(reverse("home")).status_code == 200


def test_parties_do_not_see_the_case_list(client, case_world):
    client.force_login(case_world.plaintiff)
    assert client.get(reverse("case_list")).status_code == 403
    client.force_login(case_world.mediator)
    response = client.get(reverse("case_list"))
    assert response.status_code == 200
    assert case_world.case.number in response.content.decode()


@pytest.mark.parametrize("action", ["mute", "unmute"])
@pytest.mark.parametrize("given", ["abc", "", "1.5", "9" * 30, None])
def test_a_mute_naming_no_user_id_is_not_found_and_changes_nothing(client, case_world, action, given):
    client.force_login(case_world.mediator)
    room = case_world.joint
    before = list(RoomMute.objects.values_list("id", "lifted_at")), RoomEntry.objects.count()

    response = client.post(control_url(room, action), {} if given is None else {"user": given})

    assert response.status_code == 404
    assert (list(RoomMute.objects.values_list("id", "lifted_at")), RoomEntry.objects.count()) == before
