"""Service of documents (送达): consent, electronic service and its steps, service by
other means, expiry, and the sealed proof of service.

Every step is recorded with its actor, time, method and IP address; a step happens
once (a unique constraint per service and step), so a repeated open or acknowledge
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from documents import selectors
from documents.access import can_view_document, is_side_only, side_of
from documents.models import Document, Service, ServiceConsent, ServiceStep
from documents.services.storage import read_blob, store_blob
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, Participant, User
from mediation.notifications import notify
from mediation.participation import acting_refusal
from rooms.services import post_case_event


def service_url(service: Service) -> str:
    return reverse("service_detail", args=[service.pk])


def _participant(case: MediationCase, user: User) -> Participant | None:
    return Participant.active.filter(case=case, user=user).select_related("party").first()


def _step(
    service: Service,
    step: str,
    *,
    actor: User | None,
    ip: str | None,
    at=None,
    note: str = "",
    without_opening: bool = False,
) -> ServiceStep:
    return ServiceStep.objects.create(
        without_opening=without_opening,
        service=service,
        step=step,
        actor=actor,
        at=at or timezone.now(),
        ip_address=ip or None,
        method=service.method,
        note=note,
    )


def _audit(service: Service, actor: User | None, action: str, **data) -> None:
    audit.record(actor=actor, action=f"service.{action}", target=service, data={"case": service.case_id, **data})


@transaction.atomic
def record_consent(*, case: MediationCase, user: User, email: str = "", ip: str | None = None) -> ServiceConsent:
    """A participant consents to electronic service in this case, at their platform
    account and optionally an email address. Once per case."""
    participant = _participant(case, user)
    if participant is None:
        raise ActionForbidden(_("Only a participant of this case can consent to electronic service in it."))
    # Service is on the party's people who act for it: an interpreter or a helper
    # consents to nothing for the party.
    by_role = acting_refusal(participant)
    if by_role is not None:
        raise by_role
    consent, created = ServiceConsent.objects.get_or_create(
        case=case,
        user=user,
        defaults={"platform_account": True, "email": email.strip().lower(), "ip_address": ip or None},
    )
    if not created:
        raise TransitionNotAllowed(_("You already consented to electronic service in this case."))
    audit.record(actor=user, action="service.consent", target=consent, data={"case": case.pk, "email": consent.email})
    return consent


def serves_own_ruling(case: MediationCase, actor: User, documents: list[Document]) -> bool:
    """Whether `actor` is the judge serving their own sealed ruling on an application
    for judicial confirmation of this case (the case itself has settled)."""
    from documents.models.confirmation import JudicialConfirmation

    if not documents or any(d.kind != Document.Kind.RULING or d.case_id != case.pk for d in documents):
        return False
    return JudicialConfirmation.objects.filter(
        case=case, judge=actor, ruling__sealed_blob_id__in=[d.blob_id for d in documents]
    ).exists()


def _check_serving(case: MediationCase, actor: User, recipient: User, documents: list[Document]) -> None:
    # The mediator serves while the case is open; the judge serves the ruling they
    # signed on the parties' application for judicial confirmation.
    if not serves_own_ruling(case, actor, documents):
        if case.mediator_id != actor.pk:
            raise ActionForbidden(_("Only the case's mediator serves documents."))
        if not case.is_open:
            raise TransitionNotAllowed(_("This case has ended."))
    errors = {}
    recipient_participation = _participant(case, recipient)
    if recipient_participation is None:
        errors["recipient"] = _("The recipient must take part in this case.")
    elif acting_refusal(recipient_participation) is not None:
        errors["recipient"] = _(
            "Serve the party or someone who acts for it: an interpreter or a helper cannot receive service for them."
        )
    if not documents:
        errors["documents"] = _("Choose at least one document to serve.")
    elif any(document.case_id != case.pk for document in documents):
        errors["documents"] = _("Every document must belong to this case.")
    elif _participant(case, recipient) is not None and not all(can_view_document(recipient, d) for d in documents):
        errors["documents"] = _("The recipient may not see one of these documents; share it with their side first.")
    if errors:
        raise ValidationError(errors)


# The period a mediator may give a recipient to acknowledge an electronic service,
# in calendar days.
MIN_ACKNOWLEDGE_DAYS = 1
MAX_ACKNOWLEDGE_DAYS = 30

_CHINESE_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# A period in days written in a note: "7 日", "七天", "3个工作日", "10 days", "5 working days".
_PERIOD_IN_NOTE = re.compile(
    r"(?P<number>\d+|[一二两三四五六七八九十]+)\s*(?:个)?\s*(?P<working>工作)?\s*(?:日|天)"
    r"|(?P<en_number>\d+)\s*(?P<en_working>working\s+|business\s+)?(?:calendar\s+)?days?\b",
    re.IGNORECASE,
)


def _chinese_number(text: str) -> int | None:
    """一 … 九十九 as an int (the numbers a note gives days in); None otherwise."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _CHINESE_NUMERALS.get(text) if len(text) == 1 else None
    tens, _sep, units = text.partition("十")
    value = (_CHINESE_NUMERALS.get(tens, 0) if tens else 1) * 10
    return value + (_CHINESE_NUMERALS.get(units, 0) if units else 0)


def note_contradicts_period(note: str, days: int) -> bool:
    """Whether a serving note states a period other than the `days` calendar days the
    recipient is given: another number of days, or working days (the deadline counts
    calendar days). The deadline is printed beside the note, so the note need not say
    it; when it does, it must say the same."""
    for match in _PERIOD_IN_NOTE.finditer(note):
        number = _chinese_number(match.group("number") or match.group("en_number"))
        working = match.group("working") or match.group("en_working")
        if number != days or working:
            return True
    return False


def check_acknowledge_period(days: int, note: str) -> None:
    """The period and note a mediator gives when serving electronically."""
    errors = {}
    if not MIN_ACKNOWLEDGE_DAYS <= days <= MAX_ACKNOWLEDGE_DAYS:
        errors["acknowledge_days"] = _("Give the recipient between %(min)s and %(max)s days to acknowledge.") % {
            "min": MIN_ACKNOWLEDGE_DAYS,
            "max": MAX_ACKNOWLEDGE_DAYS,
        }
    elif note_contradicts_period(note, days):
        errors["note"] = _(
            "The note states a different period from the %(days)s calendar days you chose. The deadline is shown "
            "beside the note: leave the period out of the note, or choose it in “Days to acknowledge”."
        ) % {"days": days}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def serve_electronically(
    *,
    case: MediationCase,
    actor: User,
    recipient: User,
    documents: list[Document],
    acknowledge_days: int | None = None,
    note: str = "",
    ip: str | None = None,
) -> Service:
    """Serve documents through the platform. Refused without the recipient's consent.
    The documents reach the recipient's account at once: that moment is the date of
    service, and the recipient has `acknowledge_days` calendar days from it (by default
    SERVICE_ACKNOWLEDGE_DAYS) to acknowledge. The mediator's `note` is shown to the
    recipient beside that deadline and may not state another period. The recipient is
    notified in the app and by email, and the case's rooms record the service: the
    joint room and the recipient's caucus, or that caucus alone when a document is for
    the recipient's side only."""
    _check_serving(case, actor, recipient, documents)
    days = settings.SERVICE_ACKNOWLEDGE_DAYS if acknowledge_days is None else acknowledge_days
    note = note.strip()
    check_acknowledge_period(days, note)
    consent = selectors.consent_of(case, recipient)
    if consent is None:
        raise TransitionNotAllowed(
            _(
                "%(name)s has not consented to electronic service in this case. Ask them to consent, or record a "
                "service by post or in person."
            )
            % {"name": recipient},
            code="no_consent",
        )
    now = timezone.now()
    service = Service.objects.create(
        case=case,
        recipient=recipient,
        method=Service.Method.ELECTRONIC,
        created_by=actor,
        acknowledge_by=now + dt.timedelta(days=days),
        acknowledge_days=days,
        note=note,
    )
    service.documents.set(documents)
    _step(service, Service.Status.PREPARED, actor=actor, ip=ip, at=now)
    _step(service, Service.Status.SENT, actor=actor, ip=ip, at=now)
    notify(
        recipients=[recipient],
        kind="document.served",
        params={"number": case.number, "count": len(documents)},
        url=service_url(service),
        email=False,
    )
    if consent.email:
        # The address the recipient consented to, which may differ from their login.
        transaction.on_commit(lambda: _email_service(consent.email, case, service))
    # The notification is in the recipient's account now: delivered.
    _step(service, Service.Status.DELIVERED, actor=None, ip=None, at=now)
    service.status = Service.Status.DELIVERED
    service.served_at = now
    service.save(update_fields=["status", "served_at"])
    _audit(
        service, actor, "serve", recipient=recipient.pk, documents=[d.blob_id for d in documents], days=days, note=note
    )
    participant = _participant(case, recipient)
    post_case_event(
        case=case,
        kind="document.served",
        actor=actor,
        data={
            "service": service.pk,
            "recipient": {"id": recipient.pk, "name": str(recipient)},
            "documents": [d.title for d in documents],
        },
        side=participant.party.side,
        # A side-only document's title (and the service itself) stays in that side's
        # caucus: the other side reads the joint room.
        side_only=is_side_only(documents),
    )
    return service


@transaction.atomic
def record_service_by_other_means(
    *,
    case: MediationCase,
    actor: User,
    recipient: User,
    documents: list[Document],
    method: str,
    served_at: dt.datetime,
    evidence: Document,
    note: str = "",
    ip: str | None = None,
) -> Service:
    """Record a service made by post or in person, with its evidence (a receipt, a
    signed form) uploaded as a document."""
    _check_serving(case, actor, recipient, documents)
    errors = {}
    if method not in (Service.Method.POST, Service.Method.IN_PERSON):
        errors["method"] = _("Choose post or in person.")
    if served_at > timezone.now():
        errors["served_at"] = _("The date of service cannot be in the future.")
    if evidence is None or evidence.case_id != case.pk:
        errors["evidence"] = _("Upload the evidence of service to this case first.")
    if errors:
        raise ValidationError(errors)
    service = Service.objects.create(
        case=case,
        recipient=recipient,
        method=method,
        created_by=actor,
        evidence=evidence,
        status=Service.Status.DELIVERED,
        served_at=served_at,
    )
    service.documents.set(documents)
    now = timezone.now()
    _step(service, Service.Status.PREPARED, actor=actor, ip=ip, at=now)
    _step(service, Service.Status.SENT, actor=actor, ip=ip, at=served_at, note=note)
    _step(
        service,
        Service.Status.DELIVERED,
        actor=actor,
        ip=ip,
        at=served_at,
        note=f"{evidence.title} · SHA-256 {evidence.blob_id}",
    )
    _audit(service, actor, "record_other_means", method=method, evidence=evidence.blob_id)
    return service


def _email_service(address: str, case: MediationCase, service: Service) -> None:
    """The mail of a service, in the recipient's language, in the court's name and
    with its signature, as every mail of the platform."""
    from django.core.mail import send_mail

    from mediation.notifications import signed_by_the_court

    with translation.override(service.recipient.language or settings.LANGUAGE_CODE):
        subject = _("Documents served in mediation case %(number)s") % {"number": case.number}
        body = _("Documents were served on you in mediation case %(number)s. Open them here:\n%(link)s") % {
            "number": case.number,
            "link": settings.SITE_URL + service_url(service),
        }
        # The deadline, and the mediator's note beside it, as the service page shows them.
        body += "\n\n" + ngettext(
            "Acknowledge receipt by %(deadline)s (%(days)s calendar day from the date of service).",
            "Acknowledge receipt by %(deadline)s (%(days)s calendar days from the date of service).",
            service.acknowledge_days,
        ) % {
            "deadline": timezone.localtime(service.acknowledge_by).strftime("%Y-%m-%d %H:%M"),
            "days": service.acknowledge_days,
        }
        if service.note:
            body += "\n" + _("The mediator's note: %(note)s") % {"note": service.note}
        subject, body = signed_by_the_court(subject, body)
    send_mail(subject, body, None, [address])


def _lock_for_recipient(service: Service, user: User) -> Service:
    service = Service.objects.select_for_update().select_related("case").get(pk=service.pk)
    if service.recipient_id != user.pk:
        raise ActionForbidden(_("Only the recipient can do this."))
    return service


@transaction.atomic
def mark_opened(*, service: Service, user: User, ip: str | None = None) -> Service:
    """The recipient viewed the served documents. Only the first view counts."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    if service.recipient_id != user.pk or not service.allows("open"):
        return service
    _step(service, Service.Status.OPENED, actor=user, ip=ip)
    service.status = Service.Status.OPENED
    service.save(update_fields=["status"])
    _audit(service, user, "open")
    return service


@transaction.atomic
def acknowledge_service(*, service: Service, user: User, ip: str | None = None) -> Service:
    """The recipient acknowledges receipt. A recipient who has not opened any of the
    documents on the platform may still acknowledge (they may hold them by other
    means); the acknowledged step then says "without opening", and no opened step is
    written, for none happened."""
    service = _lock_for_recipient(service, user)
    if not service.allows("acknowledge"):
        raise TransitionNotAllowed(
            _("This service can no longer be acknowledged (it is %(status)s).")
            % {"status": service.get_status_display()}
        )
    without_opening = not service.steps.filter(step=Service.Status.OPENED).exists()
    _step(service, Service.Status.ACKNOWLEDGED, actor=user, ip=ip, without_opening=without_opening)
    service.status = Service.Status.ACKNOWLEDGED
    service.save(update_fields=["status"])
    _audit(service, user, "acknowledge", without_opening=without_opening)
    event = {
        "case": service.case,
        "actor": user,
        "data": {"service": service.pk},
        "side": side_of(user, service.case),
        "side_only": is_side_only(service.documents.all()),
    }
    if without_opening:
        post_case_event(kind="document.acknowledged_unopened", **event)
    else:
        post_case_event(kind="document.acknowledged", **event)
    return service


@transaction.atomic
def refuse_service(*, service: Service, user: User, reason: str, ip: str | None = None) -> Service:
    service = _lock_for_recipient(service, user)
    if not service.allows("refuse"):
        raise TransitionNotAllowed(
            _("This service can no longer be refused (it is %(status)s).") % {"status": service.get_status_display()}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you refuse the documents.")})
    _step(service, Service.Status.REFUSED, actor=user, ip=ip, note=reason.strip())
    service.status = Service.Status.REFUSED
    service.refusal_reason = reason.strip()
    service.save(update_fields=["status", "refusal_reason"])
    _audit(service, user, "refuse", reason=reason.strip())
    notify(
        recipients=[service.case.mediator],
        kind="document.refused",
        params={"number": service.case.number, "name": str(user)},
        url=service_url(service),
    )
    return service


def expire_services(*, now: dt.datetime | None = None) -> int:
    """Mark electronic services not acknowledged by their deadline as expired.
    Idempotent: the conditional update claims each service once."""
    now = now or timezone.now()
    expired = 0
    for service_id in selectors.services_past_their_deadline(now):
        try:
            with transaction.atomic():
                service = Service.objects.select_for_update().get(pk=service_id)
                if not service.allows("expire"):
                    continue
                _step(service, Service.Status.EXPIRED, actor=None, ip=None, at=now)
                service.status = Service.Status.EXPIRED
                service.save(update_fields=["status"])
                _audit(service, None, "expire")
        except IntegrityError:
            continue
        expired += 1
    return expired


def _proof_state(service: Service) -> str:
    # The "without opening" flag is written with the acknowledged step, which already
    # changes this state; leaving it out keeps the state of proofs already made.
    steps = list(service.steps.values_list("step", "at", "actor_id", "ip_address", "note"))
    return hashlib.sha256(json.dumps([service.status, steps], default=str).encode()).hexdigest()


def proof_of_service(service: Service, *, for_court: bool) -> bytes:
    """The sealed proof of service (送达回证) for the service as it stands. The court's
    copy (`for_court`, for its mediator and judge) lists the IP address each step was
    taken from, evidence of who acted; the parties' copy is the same proof without
    them, for an address locates a person. Each copy is made once per state and kept,
    so repeated downloads return the same file."""
    from documents.rendering import document_context, render_pdf
    from documents.signing import SEAL_FIELD, seal

    state = _proof_state(service)
    blob_field, state_field = ("proof_blob", "proof_state") if for_court else ("party_proof_blob", "party_proof_state")
    if getattr(service, state_field) == state and getattr(service, f"{blob_field}_id"):
        return read_blob(getattr(service, blob_field))
    participant = Participant.objects.filter(case=service.case, user=service.recipient).select_related("party").first()
    rendered = render_pdf(
        "documents/pdf/service_proof.html",
        document_context(
            case=service.case,
            service=service,
            recipient_name=str(service.recipient),
            recipient_party=participant.party.name if participant else "",
            documents=service.documents.select_related("blob"),
            steps=service.steps.select_related("actor"),
            with_addresses=for_court,
            seal_date=timezone.now(),
        ),
    )
    [seal_box] = [slot for slot in rendered.slots if slot.slot == SEAL_FIELD]
    with translation.override(settings.DOCUMENT_LANGUAGE):
        pdf = seal(
            rendered.pdf,
            reason=_("Proof of service issued by the platform"),
            visible_at=seal_box,
        )
    blob = store_blob(pdf, "application/pdf")
    Service.objects.filter(pk=service.pk).update(**{blob_field: blob, state_field: state})
    return pdf
