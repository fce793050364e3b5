"""What the two providers' transports share: the recipient's number in the form
each provider wants, and the provider's template for one of ours."""

from __future__ import annotations

import phonenumbers
from django.conf import settings

from mediation.sms import SmsNotSent

CHINA = 86


def parsed(to: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(str(to), None)
    except phonenumbers.NumberParseException as exc:
        raise SmsNotSent(f"not an E.164 number: {to!r}", permanent=True, code="invalid_number") from exc
    if not phonenumbers.is_valid_number(number):
        raise SmsNotSent(f"not a valid number: {to!r}", permanent=True, code="invalid_number")
    return number


def e164(to: str) -> str:
    """+8613800138000: Tencent Cloud's form for every number."""
    return phonenumbers.format_number(parsed(to), phonenumbers.PhoneNumberFormat.E164)


def aliyun_number(to: str) -> str:
    """Alibaba Cloud's form: the national number for the Chinese mainland
    (13800138000), the country code and number without "+" elsewhere (85261234567)."""
    number = parsed(to)
    if number.country_code == CHINA:
        return str(number.national_number)
    return f"{number.country_code}{number.national_number}"


def template_of(mapping_setting: str, template: str):
    """The provider's template for our code `template`, from the settings map named
    `mapping_setting`; a message without one cannot be sent by this provider."""
    mapping = getattr(settings, mapping_setting) or {}
    if template not in mapping:
        raise SmsNotSent(
            f"no provider template for {template!r}: add it to {mapping_setting}",
            permanent=True,
            code="template_not_mapped",
        )
    return mapping[template]
