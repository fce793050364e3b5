"""Side-only facts never reach the other side: every page and API answer of the
authorisation matrix (tests/security/test_authorisation_matrix.py), read by each
party, holds nothing of the other side's (its side-only document's title, its caucus
session, the mediator's notes) nor any IP address recorded with a step of service."""

from __future__ import annotations

import html

import pytest
from django.db import transaction
from django.test import Client

from tests.security.test_authorisation_matrix import RIGHTS, Row, request
from tests.security.world import (
    DEFENDANT_IP,
    MEDIATOR_IP,
    POWER_OF_ATTORNEY_FILE,
    POWER_OF_ATTORNEY_REASON,
    PRIVATE_NOTES,
)

pytestmark = pytest.mark.usefixtures("court_files_in_use")

ADDRESSES = [MEDIATOR_IP, DEFENDANT_IP]
# What each party's people must never read, anywhere.
HIDDEN_FROM = {
    "plaintiff": ["For defendant", "Defendant caucus", *PRIVATE_NOTES.values(), *ADDRESSES],
    "defendant": [
        "For plaintiff",
        "Plaintiff caucus",
        POWER_OF_ATTORNEY_REASON,
        POWER_OF_ATTORNEY_FILE,
        *PRIVATE_NOTES.values(),
        *ADDRESSES,
    ],
    "other_party": [
        "For defendant",
        "For plaintiff",
        POWER_OF_ATTORNEY_REASON,
        POWER_OF_ATTORNEY_FILE,
        *PRIVATE_NOTES.values(),
        *ADDRESSES,
    ],
}
READS = [row for row in RIGHTS if row.method == "GET"]


def read_as(court, role: str, row: Row) -> str:
    with transaction.atomic():
        client = Client()
        client.force_login(court.people[role])
        response = request(client, row, court)
        transaction.set_rollback(True)
    if response.get("Content-Type", "").startswith("application/pdf"):
        return ""  # the proof's copies are read as text in tests/documents/test_side_only_facts.py
    return response.content.decode(errors="replace")


def shows(text: str, secret: str) -> bool:
    """Whether the answer holds the secret, as written or escaped for HTML."""
    return secret in text or html.escape(secret) in text


@pytest.mark.django_db
@pytest.mark.parametrize("row", READS, ids=lambda row: row.label)
def test_no_page_or_api_answer_shows_a_party_the_other_sides_facts(court, row):
    leaks = {
        role: [secret for secret in secrets if shows(read_as(court, role, row), secret)]
        for role, secrets in HIDDEN_FROM.items()
        if role in row.allowed
    }
    assert not any(leaks.values()), f"{row.label}: {leaks}"


@pytest.mark.django_db
def test_the_side_only_facts_are_there_for_those_who_may_read_them(court):
    """The negative test above proves something only if the facts are in the world."""
    by_name = {row.label: row for row in READS}
    defendant_caucus = by_name["GET api_room_history [defendant's caucus]"]
    assert shows(read_as(court, "defendant", defendant_caucus), "For defendant")
    case_page = by_name["GET case_detail"]
    assert shows(read_as(court, "defendant", case_page), "Defendant caucus")
    mediator_page = read_as(court, "mediator", case_page)
    assert all(shows(mediator_page, note) for note in PRIVATE_NOTES.values())
    service_page = read_as(court, "judge", by_name["GET service_detail [case-wide documents]"])
    assert all(shows(service_page, address) for address in ADDRESSES)
    rejected = by_name["GET power_of_attorney_detail [rejected, with the reason]"]
    assert shows(read_as(court, "plaintiff", rejected), POWER_OF_ATTORNEY_REASON)
    assert shows(read_as(court, "plaintiff", by_name["GET api_my_case"]), POWER_OF_ATTORNEY_REASON)
    assert shows(read_as(court, "plaintiff", by_name["GET powers_of_attorney"]), POWER_OF_ATTORNEY_FILE)
    # The defendant's side reads the same page, without the plaintiff's.
    assert read_as(court, "defendant", by_name["GET powers_of_attorney"])
