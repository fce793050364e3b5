"""The documents' webhook events (`agreement.sealed`, `confirmation.decided`),
queued through mediation's webhooks service in the transaction of the change, with
the same signature and retries as every event. Ids, numbers, status and times only:
no party, no person, no text of the agreement or the ruling (docs/api.md)."""

from __future__ import annotations

from mediation.services import webhooks


def _moment(value) -> str | None:
    return value.isoformat() if value else None


def agreement_sealed(agreement, *, sha256: str) -> None:
    case = agreement.case
    webhooks.queue_event(
        "agreement.sealed",
        {
            "id": agreement.pk,
            "verification_code": agreement.verification_code,
            "status": agreement.status,
            "sealed_at": _moment(agreement.sealed_at),
            "sha256": sha256,
            "case": {"id": case.pk, "number": case.number},
        },
    )


def confirmation_decided(confirmation) -> None:
    """The court decided an application for judicial confirmation: a ruling that
    confirms or rejects it, or a refusal to accept it."""
    case = confirmation.case
    webhooks.queue_event(
        "confirmation.decided",
        {
            "id": confirmation.pk,
            "case_number": confirmation.case_number,
            "status": confirmation.status,
            "decision": confirmation.decision,
            "rejection_ground": confirmation.rejection_ground,
            "applied_at": _moment(confirmation.applied_at),
            "decided_at": _moment(confirmation.decided_at),
            "case": {"id": case.pk, "number": case.number},
            "agreement_id": confirmation.agreement_id,
        },
    )
