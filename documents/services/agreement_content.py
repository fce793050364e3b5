"""The content of a settlement agreement: what a draft starts with, the agreed terms
and how they are checked, the parties as they stand when a version is locked, the
content's hash and the agreement's verification code."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
import secrets
import unicodedata
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, translation
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
# An instalment schedule: how many instalments one payment may be split into, how its
# due dates follow each other, and the longest gap "every N days" may set.
MIN_INSTALMENTS = 2
MAX_INSTALMENTS = 24
INSTALMENT_INTERVALS = ("monthly", "days")
MAX_INTERVAL_DAYS = 366
CENT = Decimal("0.01")


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
            method = str(term.get("method", "")).strip()[:200]
            row.update(
                amount=str(amount) if amount is not None else "",
                method=method,
                due_date=due.isoformat() if due else "",
            )
            problems += method_contradictions(index, method, amount=amount, due=due)
            if "instalment" in term:
                instalment = clean_instalment(term["instalment"])
                if instalment is None:
                    problems.append(
                        ValidationError(
                            _("Term %(n)s: the instalment number is not valid (at most %(max)s instalments)."),
                            params={"n": index, "max": MAX_INSTALMENTS},
                        )
                    )
                else:
                    row["instalment"] = instalment
        elif kind == "act":
            act = str(term.get("act", "")).strip()
            if not act:
                problems.append(ValidationError(_("Term %(n)s: describe what is to be done."), params={"n": index}))
            due = parse_due_date(term)
            row.update(act=act[:1000], due_date=due.isoformat() if due else "")
            problems += act_contradictions(index, act[:1000], due=due)
        cleaned.append(row)
    if problems:
        raise ValidationError({"terms": problems})
    return renumber_instalments(cleaned)


def renumber_instalments(terms: list[dict]) -> list[dict]:
    """Keep "instalment k of N" true after the rows a schedule made were edited: the
    instalments of one schedule (same debtor, creditor and N as made, numbers rising)
    are numbered again in their order, N being how many are left (2 of 3 deleted: 1 of
    2, 2 of 2); one left alone, or moved alone to other parties, is an ordinary
    payment. Each schedule stays within MAX_INSTALMENTS: its numbers rise within N."""
    schedules: list[list[dict]] = []
    current: dict[tuple, list[dict]] = {}
    for term in terms:
        if "instalment" not in term:
            continue
        key = (term["obligor"], term["obligee"], term["instalment"]["of"])
        run = current.get(key)
        if run is None or term["instalment"]["n"] <= run[-1]["instalment"]["n"]:
            # A first term, or numbers starting again: another schedule.
            run = current[key] = []
            schedules.append(run)
        run.append(term)
    for run in schedules:
        count = len(run)
        for n, term in enumerate(run, start=1):
            if count == 1:
                del term["instalment"]
            else:
                term["instalment"] = {"n": n, "of": count}
    return terms


def clean_instalment(value) -> dict | None:
    """A term's place in its schedule, `{"n": k, "of": N}` with 1 <= k <= N <= 24,
    or None when it is anything else."""
    if not isinstance(value, dict) or set(value) != {"n", "of"}:
        return None
    n, of = value["n"], value["of"]
    # bool is an int to Python, never an instalment number.
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (n, of)):
        return None
    if not 1 <= n <= of <= MAX_INSTALMENTS:
        return None
    return {"n": n, "of": of}


# What a term's free text may not say, because a structured field says it (the text is
# at most 200 characters for a method, 1000 for an act; each pattern is linear: no
# nested repetition). Text is NFKC-normalised first, so full-width digits and ￥ read
# as their ASCII forms. Amounts are read in Arabic digits, with "万" (ten thousand)
# after them; Chinese numerals beyond that (壹万元, 一万五千元, 三千元) are not parsed.
_AMOUNT = re.compile(
    r"(?:(?P<before>¥|RMB|CNY|人民币)\s?)?"
    r"(?<![\d.,])(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,15}(?:\.\d{1,2})?)(?![\d,])"
    r"\s?(?P<wan>万)?\s?(?P<after>元|块|yuan|RMB|CNY)?",
    re.IGNORECASE,
)
# A date with its year (2026年3月1日, 2026-03-01, 2026/3/1, 2026.3.1), or a month and
# day without one (3月1日, 3月1号), taken to be in the due date's year.
_DATE = re.compile(
    r"(?<!\d)(?:(?P<year>\d{4})\s?年\s?)?(?P<month>\d{1,2})\s?月\s?(?P<day>\d{1,2})\s?[日号]"
    r"|(?<!\d)(?P<iso_year>\d{4})[-/.](?P<iso_month>\d{1,2})[-/.](?P<iso_day>\d{1,2})(?!\d)"
)
_DEADLINE_WORD = re.compile(r"前|之前|以前|止|为止|内|before", re.IGNORECASE)
# One term paid in instalments: 分期, 分三期, 分3期, 分批; "in instalments", "by instalment".
_INSTALMENTS = re.compile(r"分[\d一二两三四五六七八九十\s]{0,4}[期批]|\binstal{1,2}ments?\b", re.IGNORECASE)


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _amounts_said(text: str) -> list[Decimal]:
    said = []
    for match in _AMOUNT.finditer(text):
        if not (match["before"] or match["wan"] or match["after"]):
            # A bare number (an account number, a count) is no amount.
            continue
        number = Decimal(match["number"].replace(",", ""))
        said.append((number * 10000 if match["wan"] else number).quantize(CENT))
    return said


def _dates_said(text: str, due: dt.date) -> list[tuple[str, bool]]:
    """Each date the text gives as a time to perform, as written, and whether it is
    the due date. A date qualifying a noun (2025年3月1日签订的合同, 3月1日提起的诉讼) names
    something past, not a deadline: a "的" soon after it, unless a deadline word
    (前, 之前, 以前, 止, 内) follows the date at once."""
    said = []
    for match in _DATE.finditer(text):
        after = text[match.end() : match.end() + 6].lstrip()
        if not _DEADLINE_WORD.match(after) and "的" in after[:5]:
            continue
        if match["iso_year"]:
            year, month, day = match["iso_year"], match["iso_month"], match["iso_day"]
        else:
            year, month, day = match["year"] or due.year, match["month"], match["day"]
        try:
            same = dt.date(int(year), int(month), int(day)) == due
        except ValueError:
            same = False
        said.append((match.group(0).strip(), same))
    return said


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def method_contradictions(index: int, method: str, *, amount: Decimal | None, due) -> list[ValidationError]:
    """What a payment's method says against its amount or due date, or a schedule of
    instalments inside one term: one problem each, naming the term."""
    text = _normalised(method)
    problems = []
    if _INSTALMENTS.search(text):
        problems.append(
            ValidationError(
                _(
                    "Term %(n)s: one term is one payment. To pay in instalments, split the payment with the "
                    "instalment schedule, which makes one term per instalment."
                ),
                params={"n": index},
            )
        )
    if amount is not None:
        other = next((said for said in _amounts_said(text) if said != amount), None)
        if other is not None:
            problems.append(
                ValidationError(
                    _(
                        "Term %(n)s: the method says %(said)s yuan but the amount is %(amount)s yuan. Put the "
                        "amount only in the amount field."
                    ),
                    params={"n": index, "said": _yuan(other), "amount": _yuan(amount)},
                )
            )
    if due is not None:
        other = next((written for written, same in _dates_said(text, due) if not same), None)
        if other is not None:
            problems.append(
                ValidationError(
                    _(
                        "Term %(n)s: the method says %(said)s but the due date is %(due)s. Put the date only in "
                        "the due date field."
                    ),
                    params={"n": index, "said": other, "due": formats.date_format(due, "DATE_FORMAT")},
                )
            )
    return problems


def act_contradictions(index: int, act: str, *, due) -> list[ValidationError]:
    """A date in an act's text that is not its due date."""
    if due is None:
        return []
    other = next((written for written, same in _dates_said(_normalised(act), due) if not same), None)
    if other is None:
        return []
    return [
        ValidationError(
            _(
                "Term %(n)s: the text says %(said)s but the due date is %(due)s. Put the date only in the due "
                "date field."
            ),
            params={"n": index, "said": other, "due": formats.date_format(due, "DATE_FORMAT")},
        )
    ]


def add_months(day: dt.date, months: int, *, day_of_month: int) -> dt.date:
    """`months` after `day`, on `day_of_month` or the month's last day when it is
    shorter (Jan 31 → Feb 28 or 29 → Mar 31)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def instalment_terms(
    *,
    obligor: int,
    obligee: int,
    total,
    count: int,
    first_due: dt.date,
    interval: str = "monthly",
    interval_days: int | None = None,
    method: str = "",
) -> list[dict]:
    """A payment split into `count` instalments, one payment term each, in the order
    they fall due: equal amounts in whole cents, the cents left over going to the last,
    so that they sum exactly to `total` (10000 over 3: 3333.33, 3333.33, 3333.34). The
    first is due on `first_due`, the next a month later on the same day of the month
    (or the month's last day) or `interval_days` later. The terms are ordinary terms
    afterwards; `"instalment": {"n": k, "of": count}` names each one's place.

    Raises ValidationError (under "schedule") when the schedule cannot be made; who
    pays whom, and the method, are checked with the draft's terms (`clean_terms`)."""
    problems = []
    amount = _positive_decimal(total)
    if amount is None:
        problems.append(_("Instalments: give the total amount in yuan."))
    if isinstance(count, bool) or not isinstance(count, int) or not MIN_INSTALMENTS <= count <= MAX_INSTALMENTS:
        problems.append(
            _("Instalments: give the number of instalments, from %(min)s to %(max)s.")
            % {"min": MIN_INSTALMENTS, "max": MAX_INSTALMENTS}
        )
        count = None
    if not isinstance(first_due, dt.date):
        problems.append(_("Instalments: give the first due date."))
    if interval not in INSTALMENT_INTERVALS:
        problems.append(_("Instalments: choose monthly or every so many days."))
    elif interval == "days" and (
        isinstance(interval_days, bool)
        or not isinstance(interval_days, int)
        or not 1 <= interval_days <= MAX_INTERVAL_DAYS
    ):
        problems.append(
            _("Instalments: give the days between instalments, from 1 to %(max)s.") % {"max": MAX_INTERVAL_DAYS}
        )
    if amount is not None and count is not None and amount / count < CENT:
        problems.append(_("Instalments: each instalment must be at least 0.01 yuan."))
    if problems:
        raise ValidationError({"schedule": problems})
    share = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    try:
        dates = [
            add_months(first_due, k, day_of_month=first_due.day)
            if interval == "monthly"
            else first_due + dt.timedelta(days=interval_days * k)
            for k in range(count)
        ]
    except (ValueError, OverflowError) as error:
        raise ValidationError({"schedule": [_("Instalments: the last due date is out of range.")]}) from error
    return [
        {
            "kind": "payment",
            "obligor": obligor,
            "obligee": obligee,
            "amount": str(share if k < count else amount - share * (count - 1)),
            "method": str(method or "").strip()[:200],
            "due_date": due.isoformat(),
            "instalment": {"n": k, "of": count},
        }
        for k, due in enumerate(dates, start=1)
    ]


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
