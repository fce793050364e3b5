"""How a settled case's agreement stands after the seal, in one line: whether the court
confirmed it, and how far its terms are performed. The work order's return visit shows
it for each settled case of the order (the page and the API), so whoever calls the
requester back knows whether they were paid.

`performance_summary` returns codes and numbers; `performance_line` renders them in
the reader's language."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from documents.models import Agreement, JudicialConfirmation, Obligation
from mediation.models import MediationCase

Status = Obligation.Status


def performance_summary(case: MediationCase) -> dict | None:
    """None when the case has no sealed agreement; otherwise
    {"case": number, "confirmation": None | {"status", "case_number"}, "instalments": bool,
     "total", "performed", "reported", "disputed", "overdue", "due", "next_due": ISO date | None}."""
    agreement = (
        Agreement.objects.filter(case=case, status=Agreement.Status.SEALED).order_by("-sealed_at", "-id").first()
    )
    if agreement is None:
        return None
    confirmation = JudicialConfirmation.objects.filter(agreement=agreement).order_by("-created_at", "-id").first()
    counts = Obligation.objects.filter(agreement=agreement).aggregate(
        total=Count("id"),
        instalments=Count("id", filter=Q(instalments__isnull=False)),
        **{status: Count("id", filter=Q(status=status)) for status in Status.values},
        next_due=Min("due_date", filter=Q(status=Status.DUE)),
    )
    return {
        "case": case.number,
        "confirmation": {"status": confirmation.status, "case_number": confirmation.case_number}
        if confirmation
        else None,
        "instalments": bool(counts.pop("instalments")),
        **{key: counts[key] for key in ("total", *Status.values)},
        "next_due": counts["next_due"].isoformat() if counts["next_due"] else None,
    }


def _confirmation_words(confirmation: dict | None) -> str:
    if confirmation is None:
        return _("Agreement sealed; no application for judicial confirmation")
    status, number = confirmation["status"], confirmation["case_number"]
    if status == JudicialConfirmation.Status.CONFIRMED:
        return _("Agreement confirmed by the court (%(number)s)") % {"number": number}
    if status == JudicialConfirmation.Status.REJECTED:
        return _("Judicial confirmation rejected (%(number)s)") % {"number": number}
    return _("Judicial confirmation: %(status)s") % {"status": JudicialConfirmation.Status(status).label}


def performance_line(summary: dict) -> str:
    """“Agreement confirmed by the court ((2026)京0107民特1号); 1 of 3 instalments
    performed, 1 reported, 1 due 2027-01-07”, in the reader's language."""
    parts = [_confirmation_words(summary["confirmation"])]
    total = summary["total"]
    if total:
        if summary["instalments"]:
            performed = ngettext(
                "%(performed)d of %(total)d instalment performed",
                "%(performed)d of %(total)d instalments performed",
                total,
            )
        else:
            performed = ngettext(
                "%(performed)d of %(total)d term performed", "%(performed)d of %(total)d terms performed", total
            )
        details = [performed % {"performed": summary["performed"], "total": total}]
        if summary["reported"]:
            details.append(_("%(count)d reported") % {"count": summary["reported"]})
        if summary["disputed"]:
            details.append(_("%(count)d disputed") % {"count": summary["disputed"]})
        if summary["overdue"]:
            details.append(_("%(count)d overdue") % {"count": summary["overdue"]})
        if summary["due"]:
            if summary["next_due"]:
                details.append(_("%(count)d due %(date)s") % {"count": summary["due"], "date": summary["next_due"]})
            else:
                details.append(_("%(count)d due") % {"count": summary["due"]})
        parts.append(_(", ").join(details))
    return _("; ").join(parts)


def order_performance(order) -> list[dict]:
    """Each settled case of the order with a sealed agreement: {"case", "summary", "text"}."""
    rows = []
    for case in order.mediation_cases.filter(status=MediationCase.Status.SETTLED).order_by("pk"):
        summary = performance_summary(case)
        if summary is not None:
            rows.append({"case": case, "summary": summary, "text": performance_line(summary)})
    return rows
