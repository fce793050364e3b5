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

from mediation import id_numbers
from mediation.models import MediationCase

VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TERM_KINDS = ("payment", "act")
# What the debtor owes on top of the accelerated balance when an instalment is missed.
PENALTY_KINDS = ("none", "interest", "fixed")
MAX_GRACE_DAYS = 365
# Terms one agreement may hold: bounds what a draft's single submission makes us check.
MAX_TERMS = 50
MAX_INTEREST_RATE = Decimal("100")


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
                # Not the number itself: a version's content is a plain JSON record kept
                # as long as the agreement. Its keyed hash fixes which number the
                # version names (the content hash covers it); the PDF prints the number
                # from the party's encrypted field (`party_id_numbers`).
                "id_number_hash": party.id_number_hash,
                "id_number_masked": id_numbers.mask(party.id_number) if party.id_number else "",
                "credit_code": party.credit_code,
                "legal_representative": party.legal_representative,
                "address": party.address,
                "participants": [
                    {"name": str(p.user), "role": p.role} for p in party.participants.all() if p.removed_at is None
                ],
            }
        )
    return parties


def party_id_numbers(parties: list[dict]) -> list[dict]:
    """A version's parties with each one's ID number to print (`id_number`): read from
    the party's encrypted field when it is still the number the version fixed (its
    keyed hash), masked when the party's record has changed or gone since. Versions
    locked before the snapshot kept hashes carry the number itself, unchanged."""
    from mediation.models import Party

    wanted = [party["id"] for party in parties if party.get("id_number_hash") and "id_number" not in party]
    rows = {row.pk: row for row in Party.objects.filter(pk__in=wanted)}
    shown = []
    for party in parties:
        if "id_number" in party or not party.get("id_number_hash"):
            shown.append({"id_number": "", **party})
            continue
        row = rows.get(party["id"])
        same = row is not None and row.id_number_hash == party["id_number_hash"]
        shown.append({**party, "id_number": row.id_number if same else party.get("id_number_masked", "")})
    return shown


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


def signing_place() -> dict:
    """Where an agreement is concluded, as data: the court whose online mediation
    platform it is signed on (rendered in the reader's language)."""
    return {"court": settings.COURT_NAME}


def parse_due_date(term: dict):
    """The term's due date, or None when missing or not a real date (2026-02-30)."""
    try:
        return parse_date(str(term.get("due_date") or ""))
    except ValueError:
        return None


def clean_terms(terms: list[dict], case: MediationCase) -> list[dict]:
    """Validate the agreed terms: who owes what to whom, and by when. Each problem
    carries its term's number (`params["n"]`), so a form can show it on its row."""
    if len(terms) > MAX_TERMS:
        raise ValidationError({"terms": [_("At most %(max)s terms.") % {"max": MAX_TERMS}]})
    party_ids = set(case.parties.values_list("pk", flat=True))
    cleaned, problems = [], []
    for index, term in enumerate(terms, start=1):
        kind = term.get("kind")
        obligor, obligee = term.get("obligor"), term.get("obligee")
        row = {"kind": kind, "obligor": obligor, "obligee": obligee}
        if kind not in TERM_KINDS:
            problems.append(ValidationError(_("Term %(n)s: choose a payment or an act."), params={"n": index}))
        if obligor not in party_ids or obligee not in party_ids or obligor == obligee:
            problems.append(
                ValidationError(_("Term %(n)s: choose two different parties of this case."), params={"n": index})
            )
        if kind == "payment":
            try:
                amount = Decimal(str(term.get("amount", ""))).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                amount = None
            if amount is None or not amount.is_finite() or amount <= 0:
                problems.append(ValidationError(_("Term %(n)s: give the amount in yuan."), params={"n": index}))
            due = parse_due_date(term)
            if due is None:
                problems.append(ValidationError(_("Term %(n)s: give the due date."), params={"n": index}))
            row.update(
                amount=str(amount) if amount is not None else "",
                method=str(term.get("method", "")).strip()[:200],
                due_date=due.isoformat() if due else "",
            )
        elif kind == "act":
            act = str(term.get("act", "")).strip()
            if not act:
                problems.append(ValidationError(_("Term %(n)s: describe what is to be done."), params={"n": index}))
            due = parse_due_date(term)
            row.update(act=act[:1000], due_date=due.isoformat() if due else "")
        cleaned.append(row)
    if problems:
        raise ValidationError({"terms": problems})
    return cleaned


def instalment_pairs(terms: list[dict]) -> list[tuple[int, int]]:
    """The (debtor, creditor) pairs whose payments are in instalments: two or more
    payment terms from the same party to the same party, in the order they first
    appear. The default and acceleration clause applies to these."""
    counts: dict[tuple[int, int], int] = {}
    for term in terms:
        if term.get("kind") == "payment":
            pair = (term.get("obligor"), term.get("obligee"))
            counts[pair] = counts.get(pair, 0) + 1
    return [pair for pair, count in counts.items() if count > 1]


def _positive_decimal(value, *, maximum: Decimal | None = None) -> Decimal | None:
    try:
        number = Decimal(str(value if value is not None else "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number <= 0 or (maximum is not None and number > maximum):
        return None
    return number


def clean_default_clause(clause: dict | None, terms: list[dict]) -> dict | None:
    """Validate the default and acceleration clause (违约责任、加速到期) against the
    cleaned terms: if a debtor misses an instalment (by more than the days of grace),
    the whole unpaid balance falls due at once, and they may owe interest on it or a
    fixed sum. Stored as codes and numbers, rendered in the reader's language.

    None means the mediator has not decided yet (the clause was never offered: the page
    offers it ticked once there are instalments); `{"enabled": False}` is their
    decision to leave it out. A clause without instalments to apply to is refused."""
    if clause is None:
        return None
    if not clause.get("enabled"):
        return {"enabled": False}
    problems = []
    if not instalment_pairs(terms):
        problems.append(
            _(
                "Default clause: it applies to payments in instalments. Add two or more payments by the same "
                "party to the same party, or untick the clause."
            )
        )
    try:
        grace_days = int(str(clause.get("grace_days") if clause.get("grace_days") not in (None, "") else 0))
    except ValueError:
        grace_days = -1
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        problems.append(
            _("Default clause: give the days of grace as a whole number from 0 to %(max)s.") % {"max": MAX_GRACE_DAYS}
        )
    penalty = clause.get("penalty") or "none"
    cleaned = {"enabled": True, "grace_days": max(grace_days, 0), "penalty": penalty}
    if penalty not in PENALTY_KINDS:
        problems.append(_("Default clause: choose what the debtor pays besides the balance."))
    elif penalty == "interest":
        rate = _positive_decimal(clause.get("rate"), maximum=MAX_INTEREST_RATE)
        if rate is None:
            problems.append(
                _("Default clause: give the yearly interest rate in per cent, more than 0 and at most %(max)s.")
                % {"max": MAX_INTEREST_RATE}
            )
        cleaned["rate"] = str(rate) if rate is not None else ""
    elif penalty == "fixed":
        amount = _positive_decimal(clause.get("amount"))
        if amount is None:
            problems.append(_("Default clause: give the fixed sum in yuan."))
        cleaned["amount"] = str(amount) if amount is not None else ""
    if problems:
        raise ValidationError({"default_clause": problems})
    return cleaned
