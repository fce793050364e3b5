"""Resident identity card numbers (居民身份证号码), GB 11643-1999: 18 characters, the
address code of the place of registration (6 digits), the date of birth (8), a
sequence number (3) and a check character (0-9 or X, ISO 7064 MOD 11-2). The check
itself is python-stdnum's (`stdnum.cn.ric`); this module says in words what is wrong,
and how a number is shown to those who need not see it whole."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

LENGTH = 18


def normalise(value: str) -> str:
    """The number as stored: no spaces, an upper-case X."""
    return "".join(ric.compact(value or "").split()).upper()


def keyed_hash(value: str) -> str:
    """The keyed hash an ID number is matched by (personal_data.keyed_hash of its
    normalised form); "" for none. One rule for every table that keeps one."""
    from mediation import personal_data

    return personal_data.keyed_hash("id_number", normalise(value)) if value else ""


def validate(value: str, *, field: str = "id_number") -> str:
    """The number, normalised, if it is a valid resident ID number; else a
    ValidationError on `field` that names what is wrong."""
    number = normalise(value)
    if not number:
        raise ValidationError({field: _("The ID number is required.")})
    if len(number) != LENGTH:
        raise ValidationError(
            {field: _("A resident ID number has 18 characters; this one has %(count)d.") % {"count": len(number)}}
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError({field: _("A resident ID number is 17 digits followed by a digit or the letter X.")})
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            {
                field: _("Characters 7 to 14 of an ID number are the date of birth; %(date)s is not a date.")
                % {"date": number[6:14]}
            }
        ) from None
    if born > dt.date.today() or born.year < 1900:
        raise ValidationError(
            {
                field: _("Characters 7 to 14 of an ID number are the date of birth; %(date)s cannot be one.")
                % {"date": number[6:14]}
            }
        )
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError(
            {
                field: _(
                    "The last character of the ID number does not match the others (its check digit is wrong): "
                    "look for a mistyped digit."
                )
            }
        )
    try:
        ric.get_birth_place(number)
    except stdnum_errors.ValidationError:
        raise ValidationError(
            {
                field: _("The first 6 digits of an ID number are a place of registration; %(code)s is not one.")
                % {"code": number[:6]}
            }
        ) from None
    return number


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except ValidationError:
        return False
    return True


def mask(value: str) -> str:
    """110***********1234: the first 3 and the last 4 characters."""
    number = normalise(value)
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
