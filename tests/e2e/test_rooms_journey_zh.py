"""The rooms in Chinese on a phone: the defendant reads the case's document and
agreement events in their own language (no raw `document.`/`agreement.` keys, no
English), sees their caucus in its own colour with the banner saying the other side
cannot see it, and on the phone Enter inserts a line (the Send button sends). The
mediator, on a desktop and not in the plaintiff's caucus, hears at once of a message
the plaintiff writes there: a toast and the header's count."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from mediation.models import RoomKind, User
from rooms.services import post_event
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court, rooms_of, shown_bodies, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CAUCUS_BACKGROUND = "rgb(239, 233, 247)"  # --caucus-bg
VERIFICATION_CODE = "HQ7K-2MWP"


def speak_chinese(*users: User) -> None:
    User.objects.filter(pk__in=[user.pk for user in users]).update(language="zh-hans")


def post_case_events(room, mediator: User, defendant: User, kinds: list[str]) -> None:
    """The events serving and signing leave in the joint room, as those services post
    them (their own journeys drive the services; here the rooms' reading of them is
    what is checked)."""
    data = {
        "document.served": {
            "service": 1,
            "recipient": {"id": defendant.pk, "name": str(defendant)},
            "documents": ["起诉状"],
        },
        "document.acknowledged": {"service": 1},
        "agreement.locked": {"version": 1, "agreement": 1},
        "agreement.signed": {"version": 1, "party": None},
        "agreement.sealed": {"agreement": 1, "verification_code": VERIFICATION_CODE, "sha256": "0" * 64},
    }
    actors = {"document.acknowledged": defendant}
    with transaction.atomic():
        for kind in kinds:
            post_event(room=room, kind=kind, actor=actors.get(kind, mediator), data=data[kind])


def event_lines(page) -> list[str]:
    return page.locator("[data-messages] li.entry-event").all_inner_texts()


def test_rooms_in_chinese_on_a_phone(journey):
    journey.language = "zh-hans"
    journey.data.append(VERIFICATION_CODE)
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-zh-rooms")
    off_the_loop(speak_chinese, court.mediator, world.plaintiff, world.defendant)
    rooms = rooms_of(world.case)
    joint, plaintiff_caucus, defendant_caucus = (
        rooms[RoomKind.JOINT],
        rooms[RoomKind.CAUCUS_PLAINTIFF],
        rooms[RoomKind.CAUCUS_DEFENDANT],
    )
    off_the_loop(post_case_events, joint, court.mediator, world.defendant, ["document.served", "document.acknowledged"])

    mediator = journey.person("mediator")
    plaintiff = journey.person("plaintiff", phone=True)
    defendant = journey.person("defendant", phone=True)
    for person, user in ((mediator, court.mediator), (plaintiff, world.plaintiff), (defendant, world.defendant)):
        person.sign_in(user)

    # The defendant reads the joint room's events in Chinese: from the history, and
    # live as they happen.
    defendant.goto(f"/rooms/{joint.pk}/", "joint room with events")
    # Joining and the start of mediation left three events before these two.
    defendant.page.locator("[data-messages] li.entry-event").nth(4).wait_for()
    off_the_loop(
        post_case_events,
        joint,
        court.mediator,
        world.defendant,
        ["agreement.locked", "agreement.signed", "agreement.sealed"],
    )
    defendant.page.locator("[data-messages] li.entry-event").nth(7).wait_for()
    lines = event_lines(defendant.page)
    assert len(lines) == 8, lines
    lines = lines[3:]
    expected = [
        f"{court.mediator}已向{world.defendant}送达起诉状。",
        f"{world.defendant}已确认收到送达的文书。",
        "调解协议第1版已可签署。",
        f"{court.mediator}已签署调解协议第1版。",
        f"调解协议已签章。核验码：{VERIFICATION_CODE}。",
    ]
    for line, text in zip(lines, expected, strict=True):
        assert line.startswith(text), (line, text)
    page_text = defendant.text()
    assert not re.search(r"\b(document|agreement)\.[a-z]+", page_text), page_text
    defendant.check("joint room events in chinese")
    assert defendant.page.locator("[data-caucus-banner]").count() == 0

    # The defendant's caucus looks like one and says who cannot see it.
    with defendant.page.expect_navigation():
        defendant.page.locator(f'[data-room-tab="{defendant_caucus.pk}"]').click()
    banner = defendant.page.locator("[data-caucus-banner]")
    assert banner.inner_text().strip() == t(
        "Only your side and the mediator see this room: the other side cannot see it."
    )
    assert banner.inner_text().strip() == "本调解室仅您方与调解员可见，对方看不到。"
    background = defendant.page.locator("[data-room-log]").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert background == CAUCUS_BACKGROUND
    defendant.check("defendant caucus banner and colour")

    # On the phone Enter inserts a line; the Send button sends both lines.
    composer = defendant.page.locator("#composer-body")
    composer.click()
    defendant.page.keyboard.type("第一行")
    defendant.page.keyboard.press("Enter")
    defendant.page.keyboard.type("第二行")
    assert composer.input_value() == "第一行\n第二行"
    defendant.page.wait_for_timeout(500)
    assert shown_bodies(defendant) == []
    defendant.page.locator("[data-composer] button[type=submit]").click()
    wait_for_message(defendant.page, "第二行")
    assert shown_bodies(defendant) == ["第一行\n第二行"]

    # The mediator, on a desktop page outside the plaintiff's caucus, hears at once
    # that the plaintiff wrote there.
    hello = []
    mediator.page.on(
        "websocket",
        lambda ws: (
            ws.on("framereceived", lambda payload: hello.append(payload))
            if ws.url.endswith("/ws/notifications/")
            else None
        ),
    )
    mediator.goto(f"/cases/{world.case.pk}/", "case page with next step")
    assert mediator.page.locator("[data-next-step]").inner_text().strip().startswith("下一步")
    for _wait in range(100):
        if hello:
            break
        mediator.page.wait_for_timeout(100)
    assert hello, "the mediator's notification socket never said hello"
    assert mediator.page.locator("[data-room-activity]").is_hidden()
    plaintiff.goto(f"/rooms/{plaintiff_caucus.pk}/", "plaintiff caucus")
    plaintiff.page.locator("[data-caucus-banner]").wait_for()
    plaintiff.page.locator("#composer-body").fill("我方最低接受三十万元。")
    plaintiff.page.locator("[data-composer] button[type=submit]").click()
    wait_for_message(plaintiff.page, "我方最低接受三十万元。")

    toast = mediator.page.locator("[data-live-notice]")
    toast.wait_for(state="visible")
    assert f"案件{world.case.number}的原告背对背调解室有新消息。" in toast.inner_text()
    assert toast.locator("a").get_attribute("href") == f"/rooms/{plaintiff_caucus.pk}/"
    count = mediator.page.locator("[data-room-activity-count]")
    count.wait_for(state="visible")
    assert re.sub(r"\D", "", count.inner_text()) == "1"
    mediator.check("toast and header count")

    # The mediator's caucus banner names the side that cannot see it.
    with mediator.page.expect_navigation():
        toast.locator("a").click()
    assert mediator.page.locator("[data-caucus-banner]").inner_text().strip() == "被告方看不到本调解室。"
    wait_for_message(mediator.page, "我方最低接受三十万元。")
    # Opening the room reads what was new there: the count is gone.
    assert mediator.page.locator("[data-room-activity]").is_hidden()
    mediator.check("plaintiff caucus as the mediator")
