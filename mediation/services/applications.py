"""Applying for mediation without staff (/apply/) and following one's requests
(/apply/track/), by a mobile number proved with an SMS code.

An application is checked whole before its code is looked at, so that a request
refused only for its other fields does not use the code up; the code is then checked
outside the transaction (a wrong try is counted even though nothing else happens) and
spent inside the one that records the work order, its application and the SMS receipt.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import id_numbers, phones, verification_codes
from mediation.models import Application, Party, Side, WorkOrder
from mediation.models.work_orders import Category, Channel, RequesterRole
from mediation.services import work_orders
from mediation.sms import send_sms
from mediation.sms.templates import register

APPLY = "apply"
TRACK = "track"

# What one application may hold: enough for any dispute told in a few paragraphs.
LIMITS = {
    "name": 100,
    "organisation_name": 200,
    "respondent_name": 200,
    "facts": 5000,
    "claim": 2000,
}
MAX_AMOUNT = Decimal("100000000000")  # 100 billion yuan

register(
    "application_received",
    gettext_lazy(
        "Your application for mediation was received as work order %(number)s. Follow it under "
        "“Track my request” on the court's mediation site with this mobile number."
    ),
)


def _text(values: dict, errors: dict, field: str, value, *, required: bool, message: str) -> None:
    value = (value or "").strip()
    if required and not value:
        errors[field] = message
    elif len(value) > LIMITS[field]:
        errors[field] = _("At most %(limit)d characters; this has %(count)d.") % {
            "limit": LIMITS[field],
            "count": len(value),
        }
    values[field] = value


def _amount(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({"amount": _("Give the amount in yuan, e.g. 12000 or 12000.50.")}) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Give the amount in yuan, e.g. 12000 or 12000.50.")})
    return amount


def validate_application(
    *,
    phone,
    name,
    id_number,
    applicant_kind=Application.ApplicantKind.PERSON,
    organisation_name="",
    organisation_credit_code="",
    respondent_kind=Application.RespondentKind.PERSON,
    respondent_name,
    respondent_phone="",
    facts,
    claim,
    amount=None,
    consent_online_mediation=False,
    consent_electronic_service=False,
    preferred_mediator=None,
) -> dict:
    """The application's fields checked and normalised, or one ValidationError naming
    every field that is wrong. Looks at no code and changes nothing.
    `preferred_mediator` is the id of a mediator on the public roster, or empty."""
    from mediation.services.cases import CREDIT_CODE_PATTERN

    errors: dict = {}
    values: dict = {}
    try:
        values["phone"] = phones.to_e164(phone, field="phone")
    except ValidationError as error:
        errors.update({field: messages[0] for field, messages in error.message_dict.items()})
    _text(values, errors, "name", name, required=True, message=_("Give your name as on your ID card."))
    try:
        values["id_number"] = id_numbers.validate(id_number or "", field="id_number")
    except ValidationError as error:
        errors["id_number"] = error.message_dict["id_number"][0]
    if applicant_kind not in Application.ApplicantKind.values:
        errors["applicant_kind"] = _("Say whether you apply for yourself or for a company or organisation.")
    values["applicant_kind"] = applicant_kind
    organisation = applicant_kind == Application.ApplicantKind.ORGANISATION
    _text(
        values,
        errors,
        "organisation_name",
        organisation_name if organisation else "",
        required=organisation,
        message=_("Give the name of the company or organisation you apply for."),
    )
    credit_code = (organisation_credit_code or "").strip().upper() if organisation else ""
    if credit_code and not CREDIT_CODE_PATTERN.match(credit_code):
        errors["organisation_credit_code"] = _(
            "A unified social credit code has 18 characters (digits and capital letters)."
        )
    values["organisation_credit_code"] = credit_code
    if respondent_kind not in Application.RespondentKind.values:
        errors["respondent_kind"] = _("Say whether the other side is a person or a company or organisation.")
    values["respondent_kind"] = respondent_kind
    _text(values, errors, "respondent_name", respondent_name, required=True, message=_("Name the other side."))
    values["respondent_phone"] = ""
    if respondent_phone and str(respondent_phone).strip():
        try:
            values["respondent_phone"] = phones.to_e164(respondent_phone, field="respondent_phone")
        except ValidationError as error:
            errors["respondent_phone"] = error.message_dict["respondent_phone"][0]
    _text(values, errors, "facts", facts, required=True, message=_("Say what happened."))
    _text(values, errors, "claim", claim, required=True, message=_("Say what you ask for."))
    try:
        values["amount"] = _amount(amount)
    except ValidationError as error:
        errors["amount"] = error.message_dict["amount"][0]
    if consent_online_mediation is not True:
        errors["consent_online_mediation"] = _(
            "Online mediation needs your consent (Online Mediation Rules of the People's Courts, art. 4)."
        )
    values["consent_online_mediation"] = consent_online_mediation is True
    values["consent_electronic_service"] = consent_electronic_service is True
    values["preferred_mediator"] = None
    if preferred_mediator not in (None, ""):
        values["preferred_mediator"] = chosen_mediator(preferred_mediator)
        if values["preferred_mediator"] is None:
            errors["preferred_mediator"] = _(
                "The mediator you chose is not on the court's public roster (any more). Choose another, or none."
            )
    if errors:
        raise ValidationError(errors)
    return values


def chosen_mediator(profile_id):
    """The MediatorProfile with this id if it is on the public roster today, else None."""
    from mediation.selectors.roster import public_profile

    return public_profile(getattr(profile_id, "pk", profile_id))


def _code_given(code) -> str:
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": _("Enter the 6-digit code sent to your mobile number.")})
    if len(code) != verification_codes.CODE_DIGITS or not code.isdigit():
        raise ValidationError({"code": _("The code is the 6 digits in the text message.")})
    return code


def apply_for_mediation(*, code: str, language: str | None = None, **fields) -> WorkOrder:
    """A citizen applies for mediation: a work order (channel portal, category
    mediation_request) with its Application, and an SMS receipt with the order's
    number. ValidationError for the fields (nothing changes, the code is not used),
    CodeRefused for the code (a wrong try is counted; nothing else changes)."""
    values = validate_application(**fields)
    checked = verification_codes.check_code(values["phone"], APPLY, _code_given(code))
    organisation = values["applicant_kind"] == Application.ApplicantKind.ORGANISATION
    with transaction.atomic():
        verification_codes.use_code(checked)
        order, _created = work_orders.receive_work_order(
            actor=None,
            channel=Channel.PORTAL,
            category=Category.MEDIATION_REQUEST,
            requester_name=values["name"],
            requester_phone=values["phone"],
            requester_id_number=values["id_number"],
            # Acting for a company, the applicant is not the party in person.
            requester_role=RequesterRole.OTHER if organisation else RequesterRole.PLAINTIFF,
            content=values["facts"],
        )
        Application.objects.create(
            work_order=order,
            applicant_kind=values["applicant_kind"],
            organisation_name=values["organisation_name"],
            organisation_credit_code=values["organisation_credit_code"],
            respondent_kind=values["respondent_kind"],
            respondent_name=values["respondent_name"],
            respondent_phone=values["respondent_phone"],
            claim=values["claim"],
            amount=values["amount"],
            consent_online_mediation=values["consent_online_mediation"],
            consent_electronic_service=values["consent_electronic_service"],
            preferred_mediator=values["preferred_mediator"],
            phone_verified_at=timezone.now(),
        )
        send_sms(values["phone"], "application_received", {"number": order.number}, language=language)
    return order


def send_apply_code(*, phone, client_address: str | None = None, language: str | None = None):
    """A code for applying; ValidationError for a bad number, CodeRefused for a limit."""
    return verification_codes.send_code(
        phones.to_e164(phone, field="phone"), APPLY, client_address=client_address, language=language
    )


def send_track_code(*, phone, client_address: str | None = None, language: str | None = None):
    """A code for following one's requests. Sent whether or not the number has any,
    so that asking says nothing about who applied (the code limits bound the cost)."""
    return verification_codes.send_code(
        phones.to_e164(phone, field="phone"), TRACK, client_address=client_address, language=language
    )


def prove_phone_for_tracking(*, phone, code) -> str:
    """The E.164 number whose requests the holder of `code` may follow; else
    ValidationError (a bad number or code format) or CodeRefused. Spends the code."""
    e164 = phones.to_e164(phone, field="phone")
    verification_codes.verify_code(e164, TRACK, _code_given(code))
    return e164


def plaintiff_and_defendant_of(order: WorkOrder) -> list[dict]:
    """The parties an order applied for online names, as `party_values` takes them:
    the plaintiff (the applicant in person, with the name, verified mobile number and
    ID number they gave, or the company they act for, with its name and credit code
    and the applicant's mobile number to reach it by; the applicant's own ID number is
    not the company's and stays on the order) and the other side as the defendant.
    An order without an application (recorded by staff) names none: its requester's
    number was never proved and its role may be anyone's."""
    application = Application.objects.filter(work_order=order).first()
    if application is None:
        return []
    if application.applicant_kind == Application.ApplicantKind.ORGANISATION:
        plaintiff = {
            "kind": Party.Kind.ORGANISATION,
            "name": application.organisation_name,
            "credit_code": application.organisation_credit_code,
            "phone": str(order.requester_phone),
        }
    else:
        plaintiff = {
            "kind": Party.Kind.PERSON,
            "name": order.requester_name,
            "id_number": order.requester_id_number,
            "phone": str(order.requester_phone),
        }
    defendant = {
        "kind": Party.Kind.ORGANISATION
        if application.respondent_kind == Application.RespondentKind.ORGANISATION
        else Party.Kind.PERSON,
        "name": application.respondent_name,
        "phone": str(application.respondent_phone or ""),
    }
    return [{"side": Side.PLAINTIFF, **plaintiff}, {"side": Side.DEFENDANT, **defendant}]
