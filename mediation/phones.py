"""Phone numbers, parsed and stored in E.164 (django-phonenumber-field over Google's
libphonenumber). A number without its country code is read in the region of
PHONENUMBER_DEFAULT_REGION (CN); numbers of other regions are accepted with their
"+" prefix. One module for every phone the platform keeps (requesters now, accounts
and parties next), so that storage, validation, search and display agree."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber, to_python

# Fewer digits than this match too many numbers to be worth a search.
MIN_PARTIAL_DIGITS = 4
# What people type around the digits: 138 1234 5678, 138-1234-5678, (010) 6512 3456.
PHONE_LIKE = re.compile(r"^\+?[\d\- ()（）.]+$")


def parse(value: str | PhoneNumber | None) -> PhoneNumber | None:
    """The number `value` stands for if it is a valid one, else None."""
    if value is None or str(value).strip() == "":
        return None
    number = to_python(str(value).strip(), region=settings.PHONENUMBER_DEFAULT_REGION)
    if not isinstance(number, PhoneNumber) or not number.is_valid():
        return None
    return number


def to_e164(value: str | PhoneNumber | None, *, field: str = "phone") -> str:
    """The E.164 form of a phone number ("+8613812345678"), or a ValidationError on
    `field` saying what is wrong."""
    if value is None or str(value).strip() == "":
        raise ValidationError({field: _("The phone number is required.")})
    number = parse(value)
    if number is None:
        message = _(
            "“%(value)s” is not a valid phone number. Write it like 138 1234 5678, or with + and the country code."
        )
        raise ValidationError({field: message % {"value": str(value).strip()[:40]}})
    return number.as_e164


def search_digits(text: str) -> str | None:
    """The digits of a search that looks like (part of) a phone number, if there are
    enough of them to search by, else None."""
    text = text.strip()
    if not PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= MIN_PARTIAL_DIGITS else None


def display(value) -> str:
    """A number as a reader expects it: national form at home (138 1234 5678),
    international abroad (+852 6123 4567); as stored when it is not a valid number
    (records kept as typed before numbers were checked)."""
    if not value:
        return ""
    number = value if isinstance(value, PhoneNumber) else to_python(str(value))
    if isinstance(number, PhoneNumber) and number.is_valid():
        home = phonenumbers.country_code_for_region(settings.PHONENUMBER_DEFAULT_REGION)
        return number.as_national if number.country_code == home else number.as_international
    return str(getattr(number, "raw_input", "") or value)


def mask(value) -> str:
    """A number as shown to whoever does not need it whole: 138****1234 (the first 3
    and the last 4 digits of the national number; +852 61****67 abroad)."""
    if value is None or str(value).strip() == "":
        return ""
    number = parse(value)
    if number is None:
        digits = re.sub(r"\D", "", str(value))
        return _mask_digits(digits)
    national = str(number.national_number)
    if number.country_code == 86:
        return _mask_digits(national)
    return f"+{number.country_code} {_mask_digits(national)}"


def _mask_digits(digits: str) -> str:
    if len(digits) >= 10:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
    return "*" * len(digits)


def is_mobile(value) -> bool:
    """Whether `value` is a valid number that can receive text messages (a mobile
    number; abroad, where numbers do not say, one that may be mobile)."""
    number = parse(value)
    return number is not None and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def to_mobile_e164(value, *, field: str = "phone") -> str:
    """The E.164 form of a mobile number, or a ValidationError on `field` saying what
    is wrong (not a number at all, or a landline that cannot receive an SMS)."""
    number = to_e164(value, field=field)
    if not is_mobile(number):
        message = _("%(number)s is not a mobile number: text messages cannot reach it. Give a mobile number.")
        raise ValidationError({field: message % {"number": display(number)}})
    return number
