"""Raising test people's identity levels (实名) the way the platform does."""

from __future__ import annotations

import io

from django.utils import timezone
from PIL import Image
from stdnum.cn import ric

from mediation.models import User
from mediation.services.identity import verify_real_name


def valid_id_number(prefix: str = "11010519491231002") -> str:
    """A resident ID number (17 digits given) with its right check digit (GB 11643-1999)."""
    return prefix + ric.calc_check_digit(prefix + "0")


def png_bytes(size=(40, 25)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def verify_phone(user: User, phone: str) -> User:
    """The person's mobile number verified (as by an SMS code)."""
    User.objects.filter(pk=user.pk).update(phone=phone, phone_verified_at=timezone.now())
    return User.objects.get(pk=user.pk)


def verify_in_person(person: User, *, by: User, full_name: str, id_number: str, case=None) -> User:
    """An in-person ID check recorded by `by` (the case's mediator or judge, or the
    general liaison), with a scan."""
    verify_real_name(
        person=person,
        actor=by,
        full_name=full_name,
        id_number=id_number,
        evidence=(png_bytes(), "id-card.png"),
        case=case,
    )
    return User.objects.get(pk=person.pk)
