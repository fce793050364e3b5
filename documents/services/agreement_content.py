"""The content of a settlement agreement: what a draft starts with, the agreed terms
and how they are checked, the parties as they stand when a version is locked, the
content's hash and the agreement's verification code."""

from __future__ import annotations

import hashlib
import json
import secrets
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from mediation.models import MediationCase

VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TERM_KINDS = ("payment", "act")


def new_verification_code() -> str:
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parties_snapshot(case: MediationCase) -> list[dict]:
    parties = []
    for party in case.parties.prefetch_related("participants__user"):
        parties.append(
            {
                "id": party.pk,
                "side": party.side,
                "kind": party.kind,
                "name": party.name,
                "id_number": party.id_number,
                "credit_code": party.credit_code,
                "legal_representative": party.legal_representative,
                "address": party.address,
                "participants": [
                    {"name": str(p.user), "role": p.role} for p in party.participants.all() if p.removed_at is None
                ],
            }
        )
    return parties


def default_content(case: MediationCase) -> dict:
    with translation.override(settings.DOCUMENT_LANGUAGE):
        return {
            "facts": case.facts,
            "terms": [],
            "costs": _("The mediation is free of charge; each party bears its own other costs."),
            "effectiveness": _(
                "This agreement takes effect when signed by the parties and the mediator and sealed by the platform."
            ),
            "judicial_confirmation": True,
        }


def parse_due_date(term: dict):
    """The term's due date, or None when missing or not a real date (2026-02-30)."""
    try:
        return parse_date(str(term.get("due_date") or ""))
    except ValueError:
        return None


def clean_terms(terms: list[dict], case: MediationCase) -> list[dict]:
    """Validate the agreed terms: who owes what to whom, and by when."""
    party_ids = set(case.parties.values_list("pk", flat=True))
    cleaned, problems = [], []
    for index, term in enumerate(terms, start=1):
        kind = term.get("kind")
        obligor, obligee = term.get("obligor"), term.get("obligee")
        row = {"kind": kind, "obligor": obligor, "obligee": obligee}
        if kind not in TERM_KINDS:
            problems.append(_("Term %(n)s: choose a payment or an act.") % {"n": index})
        if obligor not in party_ids or obligee not in party_ids or obligor == obligee:
            problems.append(_("Term %(n)s: choose two different parties of this case.") % {"n": index})
        if kind == "payment":
            try:
                amount = Decimal(str(term.get("amount", ""))).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                amount = None
            if amount is None or not amount.is_finite() or amount <= 0:
                problems.append(_("Term %(n)s: give the amount in yuan.") % {"n": index})
            due = parse_due_date(term)
            if due is None:
                problems.append(_("Term %(n)s: give the due date.") % {"n": index})
            row.update(
                amount=str(amount) if amount is not None else "",
                method=str(term.get("method", "")).strip()[:200],
                due_date=due.isoformat() if due else "",
            )
        elif kind == "act":
            act = str(term.get("act", "")).strip()
            if not act:
                problems.append(_("Term %(n)s: describe what is to be done.") % {"n": index})
            due = parse_due_date(term)
            row.update(act=act[:1000], due_date=due.isoformat() if due else "")
        cleaned.append(row)
    if problems:
        raise ValidationError({"terms": problems})
    return cleaned
