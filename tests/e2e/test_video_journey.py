"""Audio and video in the rooms, with Chromium's fake camera and microphone and the
session's real Janus: the mediator and both parties join the joint room's video and
each sees the others' video playing (frames decoded in the page, counted twice); the
mediator removes the defendant from the video and the defendant's video stops within
5 s, on their page and on the others'; the mediator and the plaintiff see each other
in the plaintiff's caucus, while the defendant is refused that caucus's media (no
credential, and the plaintiff's copied credential opens nothing); the plaintiff
removed from the case loses the video within 5 s; on a phone 360 px wide the video
is above the messages."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from mediation.models import Participant, RoomKind
from tests.e2e.browser import CHROMIUM_ARGS, off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court, rooms_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUT_SECONDS = 5


@pytest.fixture(scope="module")
def chromium_args():
    return [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]


@pytest.fixture(scope="module")
def server_environment(_janus_process):
    """The server process places the rooms' media on the session's Janus."""
    return {"JANUS_SERVERS": _janus_process.url, "JANUS_RECORDINGS_DIR": str(_janus_process.recordings)}


# Per person shown in a tile (data-user): how many frames their video decoded.
DECODED_FRAMES = """() => {
  const counts = {};
  for (const tile of document.querySelectorAll('[data-media-tiles] [data-tile][data-user]:not(.media-tile--screen)')) {
    const video = tile.querySelector('video');
    counts[tile.dataset.user] = video.srcObject ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
  }
  return counts;
}"""


def playing_videos(page) -> dict[int, int]:
    """Whose videos are playing in the page: frames decoded now and 0.7 s later; a
    person's video plays if the count grew."""
    before = page.evaluate(DECODED_FRAMES)
    page.wait_for_timeout(700)
    after = page.evaluate(DECODED_FRAMES)
    return {int(user): after[user] - before.get(user, 0) for user in after if after[user] > before.get(user, 0)}


def wait_for_videos(person, users, *, seconds: float = 30.0) -> None:
    """Until the video of each of `users` plays in the person's page."""
    wanted = {user.pk for user in users}
    deadline = time.monotonic() + seconds
    playing = {}
    while time.monotonic() < deadline:
        playing = playing_videos(person.page)
        if wanted <= set(playing):
            return
    shown = person.page.evaluate(DECODED_FRAMES)
    status = person.page.locator("[data-media-status]").inner_text()
    raise AssertionError(f"{person.label}: videos of {wanted} not playing: {playing}, tiles {shown}, status {status!r}")


def join_video(person, journey) -> None:
    person.page.get_by_role("button", name=journey.t("Join video"), exact=True).click()
    person.page.locator("[data-media-status]").filter(has_text=journey.t("You are in the video.")).wait_for()


def tile_of(person, user):
    return person.page.locator(f'[data-media-tiles] [data-tile][data-user="{user.pk}"]')


def seconds_until(condition, limit: float) -> float:
    """How long until `condition()` held, polling; fails beyond `limit` seconds."""
    started = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"not within {limit} s"
        time.sleep(0.1)
    return time.monotonic() - started


def post_credential(page, room) -> dict:
    """The credential endpoint as the page's own script calls it."""
    return page.evaluate(
        """async (url) => {
          const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
          const response = await fetch(url, {method: 'POST', credentials: 'same-origin',
            headers: {'X-CSRFToken': token, 'Accept': 'application/json'}});
          return {status: response.status, data: await response.json()};
        }""",
        f"/rooms/{room.pk}/media/credential/",
    )


# Open the media socket at `path` and ask Janus for a session: what came back, and how
# the socket ended.
TRY_MEDIA_SOCKET = """(path) => new Promise((resolve) => {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(scheme + location.host + path, 'janus-protocol');
  const frames = [];
  const timer = setTimeout(() => { resolve({code: 'still open', frames}); socket.close(); }, 5000);
  socket.onopen = () => socket.send(JSON.stringify({janus: 'create', transaction: 'copied-1'}));
  socket.onmessage = (event) => frames.push(JSON.parse(event.data));
  socket.onclose = (event) => { clearTimeout(timer); resolve({code: event.code, frames}); };
})"""


def test_video_in_the_joint_room_and_the_caucus(journey, janus):
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-video")
    rooms = rooms_of(world.case)
    joint, plaintiff_caucus = rooms[RoomKind.JOINT], rooms[RoomKind.CAUCUS_PLAINTIFF]

    mediator = journey.person("mediator")
    plaintiff = journey.person("plaintiff")
    defendant = journey.person("defendant", phone=True, width=360)
    for person, user in ((mediator, court.mediator), (plaintiff, world.plaintiff), (defendant, world.defendant)):
        person.context.grant_permissions(["camera", "microphone"])
        person.sign_in(user)
        person.goto(f"/rooms/{joint.pk}/", "joint room before the video")

    # On a phone the video is above the messages.
    panel = defendant.page.locator("[data-media-panel]").bounding_box()
    messages = defendant.page.locator(".room-main").bounding_box()
    assert panel["y"] + panel["height"] <= messages["y"], (panel, messages)

    # The three join the joint room's video; each sees the two others' video playing.
    for person in (mediator, plaintiff, defendant):
        join_video(person, journey)
    wait_for_videos(mediator, [world.plaintiff, world.defendant])
    wait_for_videos(plaintiff, [court.mediator, world.defendant])
    wait_for_videos(defendant, [court.mediator, world.plaintiff])
    panel = defendant.page.locator("[data-media-panel]").bounding_box()
    messages = defendant.page.locator(".room-main").bounding_box()
    assert panel["y"] + panel["height"] <= messages["y"], (panel, messages)
    defendant.check("joint room video on a phone")

    # Beside the members, the mediator sees who is in the video, and may remove them.
    defendant_row = mediator.page.locator(f'[data-members] [data-member="{world.defendant.pk}"]')
    defendant_row.locator(".media-badge", has_text=t("In the video")).wait_for()
    mediator.check("joint room video, the mediator's view")
    # The parties have no such controls.
    assert plaintiff.page.locator("[data-media-moderate]").count() == 0

    # The plaintiff mutes their microphone and turns their camera off: the others see
    # it beside their name, in words.
    plaintiff_row = mediator.page.locator(f'[data-members] [data-member="{world.plaintiff.pk}"]')
    plaintiff.page.get_by_role("button", name=t("Mute microphone"), exact=True).click()
    plaintiff_row.locator(".media-badge", has_text=t("Microphone off")).wait_for()
    plaintiff.page.get_by_role("button", name=t("Turn camera off"), exact=True).click()
    plaintiff_row.locator(".media-badge", has_text=t("Camera off")).wait_for()
    plaintiff.page.get_by_role("button", name=t("Turn camera on"), exact=True).click()
    plaintiff.page.get_by_role("button", name=t("Unmute microphone"), exact=True).click()
    plaintiff_row.locator(".media-badge").filter(has_text=t("Camera off")).wait_for(state="detached")
    plaintiff_row.locator(".media-badge").filter(has_text=t("Microphone off")).wait_for(state="detached")
    wait_for_videos(mediator, [world.plaintiff])

    # On a weak network the plaintiff switches to audio only: no video comes or goes,
    # and comes back when they switch back.
    plaintiff.page.get_by_role("button", name=t("Audio only (weak network)"), exact=True).click()
    plaintiff_row.locator(".media-badge", has_text=t("Camera off")).wait_for()
    seconds_until(lambda: not playing_videos(plaintiff.page), 10)
    plaintiff.page.get_by_role("button", name=t("Show video again"), exact=True).click()
    wait_for_videos(plaintiff, [court.mediator, world.defendant])
    wait_for_videos(mediator, [world.plaintiff])

    # The plaintiff shares their screen: the others see it as a tile of its own.
    plaintiff.page.get_by_role("button", name=t("Share screen"), exact=True).click()
    plaintiff_row.locator(".media-badge", has_text=t("Sharing their screen")).wait_for()
    screen = mediator.page.locator(f'[data-tile].media-tile--screen[data-user="{world.plaintiff.pk}"]')
    screen.wait_for()
    assert t("%(name)s's screen") % {"name": str(world.plaintiff)} in screen.inner_text()
    plaintiff.page.get_by_role("button", name=t("Stop sharing"), exact=True).click()
    screen.wait_for(state="detached")

    # The mediator mutes the defendant's microphone: the defendant is told.
    mute = t("Mute %(name)s's microphone") % {"name": str(world.defendant)}
    defendant_row.get_by_role("button", name=mute).click()
    defendant_row.locator(".media-badge", has_text=t("Microphone muted by the mediator")).wait_for()
    defendant.page.locator("[data-media-status]").filter(has_text=t("The mediator muted your microphone.")).wait_for()

    # The mediator removes the defendant from the video: within 5 s the defendant's
    # video stops everywhere and theirs shows nobody.
    remove = t("Remove %(name)s from the video") % {"name": str(world.defendant)}
    defendant_row.get_by_role("button", name=remove).click()
    seconds_until(
        lambda: (
            defendant.page.locator("[data-media-tiles] [data-tile]").count() == 0
            and tile_of(mediator, world.defendant).count() == 0
            and tile_of(plaintiff, world.defendant).count() == 0
        ),
        CUT_SECONDS,
    )
    defendant.page.locator("[data-media-status]").filter(
        has_text=t("You can no longer take part in this room's video.")
    ).wait_for(timeout=1000)
    assert journey.dialogs, "removing asks the mediator first"
    # ... and may not come back on their own.
    assert post_credential(defendant.page, joint)["status"] == 403

    # The mediator and the plaintiff go to the plaintiff's caucus and see each other.
    for person in (mediator, plaintiff):
        with person.page.expect_navigation():
            person.page.locator(f'[data-room-tab="{plaintiff_caucus.pk}"]').click()
        join_video(person, journey)
    wait_for_videos(mediator, [world.plaintiff])
    wait_for_videos(plaintiff, [court.mediator])
    plaintiff.check("plaintiff's caucus video")

    # The defendant gets no credential for that caucus, and the plaintiff's own
    # credential, copied, opens nothing for them.
    refused = post_credential(defendant.page, plaintiff_caucus)
    assert refused["status"] == 403, refused
    copied = post_credential(plaintiff.page, plaintiff_caucus)
    assert copied["status"] == 200, copied
    attempt = defendant.page.evaluate(TRY_MEDIA_SOCKET, copied["data"]["socket"])
    assert attempt["code"] != "still open", attempt
    assert not [frame for frame in attempt["frames"] if frame.get("janus") == "success"], attempt

    # The mediator removes the plaintiff from the case (as the case page does, through
    # the server): within 5 s their video stops, and the mediator's tile of them is gone.
    participant = Participant.objects.get(case=world.case, user=world.plaintiff)
    removed = mediator.page.evaluate(
        """async ([url, participant]) => {
          const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
          const body = new URLSearchParams({'remove_participant-participant': participant,
                                            'remove_participant-reason': 'video test'});
          const response = await fetch(url, {method: 'POST', credentials: 'same-origin', body,
            headers: {'X-CSRFToken': token}, redirect: 'manual'});
          return response.type === 'opaqueredirect' ? 302 : response.status;
        }""",
        [reverse("case_action", kwargs={"case_id": world.case.pk, "action": "remove_participant"}), participant.pk],
    )
    assert removed == 302, removed
    seconds_until(
        lambda: (
            plaintiff.page.locator("[data-media-tiles] [data-tile]").count() == 0
            and tile_of(mediator, world.plaintiff).count() == 0
        ),
        CUT_SECONDS,
    )


def test_recording_starts_only_once_everyone_present_consented(journey, janus):
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-recording")
    joint = rooms_of(world.case)[RoomKind.JOINT]
    mediator = journey.person("mediator")
    plaintiff = journey.person("plaintiff")
    defendant = journey.person("defendant")
    for person, user in ((mediator, court.mediator), (plaintiff, world.plaintiff), (defendant, world.defendant)):
        person.context.grant_permissions(["camera", "microphone"])
        person.sign_in(user)
        person.goto(f"/rooms/{joint.pk}/", "joint room before recording")
    # The defendant reads in large type (大字模式).
    with defendant.page.expect_navigation():
        defendant.page.locator("[data-large-type-switch]").click()
    for person in (mediator, plaintiff):
        join_video(person, journey)
    wait_for_videos(mediator, [world.plaintiff])
    banner = {person: person.page.locator("[data-media-recording]") for person in (mediator, plaintiff, defendant)}
    start = mediator.page.get_by_role("button", name=t("Start recording"), exact=True)
    agree = t("I agree to the recording")

    # Nobody agreed yet: the start is refused, naming who has not agreed.
    start.click()
    status = mediator.page.locator("[data-media-status]")
    status.filter(has_text=str(world.plaintiff)).wait_for()
    assert not banner[mediator].is_visible() and not banner[plaintiff].is_visible()

    # The mediator agrees; the plaintiff not yet: still refused.
    mediator.page.get_by_role("button", name=agree).click()
    status.filter(has_text=t("You agreed to the recording.")).wait_for()
    start.click()
    status.filter(has_text=str(world.plaintiff)).wait_for()
    assert not banner[plaintiff].is_visible()

    # The plaintiff agrees: the recording starts, and both pages say so.
    plaintiff.page.get_by_role("button", name=agree).click()
    plaintiff.page.locator("[data-media-status]").filter(has_text=t("You agreed to the recording.")).wait_for()
    start.click()
    for person in (mediator, plaintiff):
        banner[person].filter(has_text=t("Recording: this room's audio and video are being recorded.")).wait_for()
    mediator.check("joint room recording")

    # The defendant, joining later, is asked first and joins only once they agree.
    defendant.page.get_by_role("button", name=t("Join video"), exact=True).click()
    consent = defendant.page.locator("[data-media-consent]")
    consent.wait_for()
    assert t("Agree to the recording to join.") in consent.inner_text()
    assert defendant.page.locator("[data-media-tiles] [data-tile]").count() == 0
    defendant.check("later joiner asked to agree")
    defendant.page.get_by_role("button", name=agree).click()
    defendant.page.locator("[data-media-status]").filter(has_text=t("You are in the video.")).wait_for()
    banner[defendant].wait_for()
    wait_for_videos(defendant, [court.mediator, world.plaintiff])
    # In large type every control of the panel is at least 48 px high.
    heights = defendant.page.locator("[data-media-panel] button:visible").evaluate_all(
        "buttons => buttons.map(button => [button.textContent.trim(), button.getBoundingClientRect().height])"
    )
    assert len(heights) >= 5 and all(height >= 48 for _text, height in heights), heights

    # The mediator stops it: the banner goes from every page.
    mediator.page.get_by_role("button", name=t("Stop recording"), exact=True).click()
    for person in (mediator, plaintiff, defendant):
        banner[person].wait_for(state="hidden")

    # The plaintiff leaves the video and comes back on the same page, audio only; then
    # turns the camera on, and the others see it.
    plaintiff.page.get_by_role("button", name=t("Leave the video"), exact=True).click()
    plaintiff.page.locator("[data-media-status]").filter(
        has_text=t("You left the video. The text conversation goes on.")
    ).wait_for()
    tile_of(mediator, world.plaintiff).wait_for(state="detached")
    plaintiff.page.get_by_role("button", name=t("Join audio only"), exact=True).click()
    plaintiff.page.locator("[data-media-status]").filter(has_text=t("You are in the call, audio only.")).wait_for()
    tile_of(mediator, world.plaintiff).wait_for()
    plaintiff_row = mediator.page.locator(f'[data-members] [data-member="{world.plaintiff.pk}"]')
    plaintiff_row.locator(".media-badge", has_text=t("Camera off")).wait_for()
    assert world.plaintiff.pk not in playing_videos(mediator.page)
    plaintiff.page.get_by_role("button", name=t("Turn camera on"), exact=True).click()
    wait_for_videos(mediator, [world.plaintiff])
    wait_for_videos(plaintiff, [court.mediator, world.defendant])
