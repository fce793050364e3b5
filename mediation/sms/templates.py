"""The platform's SMS templates: a code and its wording, with %(name)s parameters.

Each code is what a provider registers as a template (Alibaba Cloud's SMS_…, Tencent
Cloud's numeric id, mapped in settings); the wording here is what the message says,
kept translatable so that the text stored for the record is in the recipient's
language. Parameters are short values (a code, a number, a date), as carriers require.
Other apps add theirs with `register`.

A parameter named secret (a one-time code) is kept on the message row only until the
transport has taken the message or it has failed: then the row keeps the text with
the secret masked (mediation.sms.redact), so the codes live nowhere in clear."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MASK = "******"

TEMPLATES = {
    "verification_code": _(
        "Your verification code is %(code)s. It is valid for %(minutes)s minutes. Do not tell it to anyone."
    ),
    # Notices (mediation.notifications.notify): short, naming the court, with a short
    # link to the notice; the recipient's side only ever learns the case number.
    "notice_session_reminder": _("%(court)s: the mediation session of case %(number)s starts at %(starts)s. %(link)s"),
    "notice_document_served": _("%(court)s: documents were served on you in case %(number)s. Read them: %(link)s"),
    "notice_agreement_ready": _(
        "%(court)s: the settlement agreement of case %(number)s is ready for your signature: %(link)s"
    ),
    "notice_agreement_sealed": _("%(court)s: the settlement agreement of case %(number)s is sealed. %(link)s"),
    "notice_deadline_contact": _("%(court)s: work order %(number)s: contact the requester by %(due)s. %(link)s"),
    "notice_deadline_contact_overdue": _(
        "%(court)s: work order %(number)s: the requester was not contacted in time. %(link)s"
    ),
    "notice_deadline_completion": _("%(court)s: work order %(number)s must be completed by %(due)s. %(link)s"),
    "notice_deadline_overdue": _("%(court)s: work order %(number)s is overdue. %(link)s"),
}
SECRET_PARAMS: dict[str, frozenset[str]] = {"verification_code": frozenset({"code"})}


def register(code: str, wording, *, secret: tuple[str, ...] = ()) -> None:
    TEMPLATES[code] = wording
    if secret:
        SECRET_PARAMS[code] = frozenset(secret)


def render(code: str, params: dict) -> str:
    """The template's text with its parameters, in the active language."""
    return str(TEMPLATES[code]) % params


def masked(code: str, params: dict) -> dict:
    """`params` with the template's secret parameters masked."""
    secret = SECRET_PARAMS.get(code, frozenset())
    return {name: (MASK if name in secret else value) for name, value in params.items()}
