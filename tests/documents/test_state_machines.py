"""The agreement's and the service of documents' state machines, as declared on their
models: every state against every action. The services ask these predicates and
raise TransitionNotAllowed when they say no (tests/documents/test_agreements.py and
test_service.py check the refusals themselves)."""

import pytest

from documents.models import Agreement, Service

A = Agreement.Status
S = Service.Status

AGREEMENT_ALLOWS = {
    # state: actions allowed
    A.DRAFT: {"edit", "lock"},
    A.LOCKED: {"edit", "decline", "sign"},
    A.SIGNING: {"edit", "decline", "sign", "seal"},
    A.SEALED: set(),
}


@pytest.mark.parametrize("status", list(A))
def test_each_agreement_state_allows_exactly_its_actions(status):
    agreement = Agreement(status=status)
    assert {action for action in Agreement.TRANSITIONS if agreement.allows(action)} == AGREEMENT_ALLOWS[status]
    assert agreement.is_waiting_for_signatures == (status in (A.LOCKED, A.SIGNING))
    assert agreement.is_sealed == (status == A.SEALED)


SERVICE_ALLOWS = {
    # (state, served electronically): actions allowed
    (S.DELIVERED, True): {"open", "acknowledge", "refuse", "expire"},
    (S.OPENED, True): {"acknowledge", "refuse", "expire"},
    # Served by post or in person: the recipient may still open the documents online.
    (S.DELIVERED, False): {"open"},
    (S.OPENED, False): set(),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("electronic", [True, False])
def test_each_service_state_allows_exactly_its_steps(status, electronic):
    method = Service.Method.ELECTRONIC if electronic else Service.Method.POST
    service = Service(status=status, method=method)
    allowed = {action for action in Service.TRANSITIONS if service.allows(action)}
    assert allowed == SERVICE_ALLOWS.get((status, electronic), set())
    assert service.awaits_recipient == ("acknowledge" in allowed)
