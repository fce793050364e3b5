"""What a party is told to do: the to-do list on their case page and in "my cases",
the notices the pages promise (it is your turn to sign), the signing page on a
phone (the terms inline, the drawn signature kept after a wrong password) and what
the page says once they have signed."""

import base64
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from documents.models import Document
from documents.services import agreements, serving
from documents.services.uploads import upload_document
from documents.stamps import MAX_SIGNATURE_IMAGE_BYTES
from documents.todo import party_tasks
from mediation.models import Notification, RoomKind
from mediation.notifications import render
from mediation.services import sessions
from tests.cases import make_case
from tests.documents.test_agreements import draft, drawn_signature, fresh, sign
from tests.documents.test_service import pdf_file
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


def codes(world, user):
    return [task.code for task in party_tasks(fresh_case(world), user)]


def fresh_case(world):
    from mediation.models import MediationCase

    return MediationCase.objects.get(pk=world.case.pk)


def upload(world, *, title="起诉状", visibility=Document.Visibility.CASE):
    return upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file(title),
        filename=f"{title}.pdf",
        title=title,
        kind=Document.Kind.COMPLAINT,
        visibility=visibility,
    )


def serve(world, recipient, documents):
    return serving.serve_electronically(case=world.case, actor=world.mediator, recipient=recipient, documents=documents)


def locked(world):
    agreement = draft(world)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    return fresh(agreement)


def todo_section(html: str) -> str:
    match = re.search(r"<section[^>]*data-todo.*?</section>", html, re.S)
    return match.group(0) if match else ""


# The to-do list --------------------------------------------------------------------------


def test_the_defendant_is_told_to_consent_then_to_acknowledge_and_each_task_goes_once_done(client, world):
    client.force_login(world.defendant)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    todo = todo_section(page)
    assert "Agree to receive the documents of this case electronically." in todo
    assert reverse("case_documents", args=[world.case.pk]) in todo

    serving.record_consent(case=world.case, user=world.defendant)
    service = serve(world, world.defendant, [upload(world)])
    todo = todo_section(client.get(reverse("case_detail", args=[world.case.pk])).content.decode())
    assert "Agree to receive" not in todo
    assert "acknowledge receipt" in todo
    assert reverse("service_detail", args=[service.pk]) in todo
    assert timezone.localtime(service.acknowledge_by).strftime("%Y-%m-%d %H:%M") in todo

    serving.acknowledge_service(service=service, user=world.defendant)
    assert codes(world, world.defendant) == ["waiting.mediator"]


def test_the_next_session_and_how_to_join_it_are_on_the_list(world):
    starts = timezone.now() + dt.timedelta(days=2)
    sessions.schedule_session(case=world.case, actor=world.mediator, starts_at=starts)
    serving.record_consent(case=world.case, user=world.plaintiff)
    tasks = party_tasks(fresh_case(world), world.plaintiff)
    [session] = [task for task in tasks if task.code == "session"]
    assert session.url == reverse("room", args=[world.joint.pk])
    assert session.due == starts
    assert "Joint mediation room" in session.text or world.joint.get_kind_display() in session.text


def test_the_other_sides_caucus_session_and_side_only_service_never_show(world):
    # A session in the plaintiff's caucus and a service of a plaintiff-only document.
    sessions.schedule_session(
        case=world.case,
        actor=world.mediator,
        starts_at=timezone.now() + dt.timedelta(days=1),
        room_kind=RoomKind.CAUCUS_PLAINTIFF,
    )
    serving.record_consent(case=world.case, user=world.plaintiff)
    serving.record_consent(case=world.case, user=world.defendant)
    serve(world, world.plaintiff, [upload(world, title="原告内部意见", visibility=Document.Visibility.PLAINTIFF)])

    plaintiff = [task.code for task in party_tasks(fresh_case(world), world.plaintiff)]
    assert "session" in plaintiff and "acknowledge" in plaintiff
    defendant_tasks = party_tasks(fresh_case(world), world.defendant)
    assert [task.code for task in defendant_tasks] == ["waiting.mediator"]
    assert world.plaintiff_caucus.get_kind_display() not in " ".join(task.text for task in defendant_tasks)


def test_court_staff_have_no_party_to_do_list(client, world):
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "data-todo" not in page


def test_my_cases_shows_a_count_and_the_first_task_in_chinese(client, world):
    world.defendant.language = "zh-hans"
    world.defendant.save(update_fields=["language"])
    client.force_login(world.defendant)
    page = client.get(reverse("my_cases"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-todo-count="1"' in page
    with translation.override("zh-hans"):
        first = party_tasks(fresh_case(world), world.defendant)[0].text
    assert first in page
    assert "电子送达" in first


def test_the_sign_task_comes_when_it_is_the_partys_turn(world):
    agreement = locked(world)
    assert "waiting.mediator_signs" in codes(world, world.defendant)
    sign(agreement, world.mediator)
    assert "sign" in codes(world, world.defendant)
    sign(agreement, world.defendant, world.defendant_participant.party)
    defendant = party_tasks(fresh_case(world), world.defendant)
    assert "sign" not in [task.code for task in defendant]
    [waiting] = [task for task in defendant if task.code == "waiting.signers"]
    assert world.plaintiff_participant.party.name in waiting.text


# Promised notifications --------------------------------------------------------------------


def test_at_locking_the_parties_are_told_to_read_not_to_sign(world):
    locked(world)
    notice = Notification.objects.get(recipient=world.defendant, kind="agreement.locked")
    assert "mediator signs first" in render(notice.kind, notice.params)
    assert not Notification.objects.filter(kind="agreement.your_turn").exists()


def test_once_the_mediator_signs_each_partys_signer_is_told_it_is_their_turn(
    world, people, django_capture_on_commit_callbacks, mailoutbox
):
    agreement = locked(world)
    with django_capture_on_commit_callbacks(execute=True):
        sign(agreement, world.mediator)

    turns = Notification.objects.filter(kind="agreement.your_turn")
    assert set(turns.values_list("recipient", flat=True)) == {world.plaintiff.pk, world.defendant.pk}
    assert {notice.url for notice in turns} == {reverse("agreement_sign", args=[agreement.pk])}
    assert sorted(mail.to[0] for mail in mailoutbox if "turn to sign" in mail.body) == sorted(
        [world.plaintiff.email, world.defendant.email]
    )

    # A party signing opens no one's turn: the other party's had come already.
    sign(agreement, world.plaintiff, world.plaintiff_participant.party)
    assert turns.count() == 2
    assert not turns.filter(recipient__in=[world.mediator, people["judge"], people["nobody"]]).exists()


def test_the_agreement_page_promise_is_kept(client, world):
    agreement = locked(world)
    client.force_login(world.defendant)
    page = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert "you will be told when you can sign" in page
    sign(agreement, world.mediator)
    assert Notification.objects.filter(recipient=world.defendant, kind="agreement.your_turn").exists()


# The signing page ------------------------------------------------------------------------


def test_the_signing_page_fits_a_phone_and_shows_the_terms_in_the_readers_language(client, world):
    agreement = locked(world)
    sign(agreement, world.mediator)
    client.force_login(world.defendant)

    page = client.get(reverse("agreement_sign", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'name="viewport"' in page
    assert "data-agreement-reading" in page
    terms = re.search(r"<ol[^>]*data-terms>(.*?)</ol>", page, re.S).group(1)
    assert "Beijing Tech A于2026年12月31日前向Shanghai Culture Media A支付人民币500,000.00元" in terms
    assert reverse("agreement_pdf", args=[agreement.pk, "current"]) in page
    english = client.get(reverse("agreement_sign", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "pays Shanghai Culture Media A RMB 500,000.00 yuan" in english


def test_the_printable_reading_page_has_a_viewport_too(client, world):
    agreement = locked(world)
    client.force_login(world.defendant)
    page = client.get(reverse("agreement_preview", args=[agreement.pk])).content.decode()
    assert 'name="viewport" content="width=device-width' in page


def post_sign(client, agreement, party, *, password, signature):
    return client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "party": party.pk,
            "method": "drawn",
            "signature": signature,
            "password": password,
        },
    )


def test_a_wrong_password_gives_the_drawn_signature_back_to_redraw(client, world):
    agreement = locked(world)
    sign(agreement, world.mediator)
    client.force_login(world.defendant)
    drawing = "data:image/png;base64," + base64.b64encode(drawn_signature()).decode()

    response = post_sign(client, agreement, world.defendant_participant.party, password="wrong", signature=drawing)

    assert response.status_code == 400
    assert f'value="{drawing}" data-signature-data' in response.content.decode()


@pytest.mark.parametrize(
    "signature",
    [
        "javascript:alert(1)",
        "data:image/png;base64,not-base64!",
        "data:image/png;base64," + base64.b64encode(b"x" * (MAX_SIGNATURE_IMAGE_BYTES + 1)).decode(),
    ],
)
def test_what_is_given_back_is_only_a_drawing_the_platform_would_take(client, world, signature):
    agreement = locked(world)
    sign(agreement, world.mediator)
    client.force_login(world.defendant)

    response = post_sign(client, agreement, world.defendant_participant.party, password="wrong", signature=signature)

    assert response.status_code == 400
    assert 'value="" data-signature-data' in response.content.decode()


def test_after_signing_the_page_says_who_signs_next_then_that_it_is_sealed(client, world):
    agreement = locked(world)
    client.force_login(world.mediator)
    drawing = "data:image/png;base64," + base64.b64encode(drawn_signature()).decode()
    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "method": "drawn",
            "signature": drawing,
            "password": PASSWORD,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "are now told that it is their turn to sign" in page
    assert world.defendant_participant.party.name in page

    client.force_login(world.defendant)
    party = world.defendant_participant.party
    response = post_sign(client, fresh(agreement), party, password=PASSWORD, signature=drawing)
    page = client.get(response.url).content.decode()
    assert f"Waiting for {world.plaintiff_participant.party.name} to sign" in page

    client.force_login(world.plaintiff)
    party = world.plaintiff_participant.party
    response = post_sign(client, fresh(agreement), party, password=PASSWORD, signature=drawing)
    page = client.get(response.url).content.decode()
    assert "Everyone has signed: the platform now seals it and tells every party when it is sealed" in page
