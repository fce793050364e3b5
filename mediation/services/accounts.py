from django.db import transaction
from django.utils import timezone

from mediation import audit
from mediation.models import User
from mediation.personal_data import keyed_hash


def set_preferred_language(*, user: User, language: str) -> None:
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


@transaction.atomic
def set_account_phone(*, user: User, phone: str, verified: bool) -> None:
    """Give the account the mobile number `phone` (E.164), verified or not yet (at
    sign-up the number is stored first, then verified by the code texted to it)."""
    if verified:
        verify_account_phone(user=user, phone=phone)
        return
    user.phone = phone
    user.phone_verified_at = None
    user.save(update_fields=["phone", "phone_verified_at"])


@transaction.atomic
def verify_account_phone(*, user: User, phone: str) -> None:
    """The person proved they hold `phone` (E.164) by the code texted to it: it becomes
    the account's number, verified now (identity level "mobile"). Replaces an earlier
    number; nothing changes if it was verified already. The audit trail names the
    number by its keyed hash only."""
    locked = User.objects.select_for_update().only("phone", "phone_verified_at").get(pk=user.pk)
    previous = str(locked.phone) if locked.phone else ""
    if previous == phone and locked.phone_verified_at is not None:
        # Proved again (each sign-in by code does): it was verified already.
        user.phone, user.phone_verified_at = locked.phone, locked.phone_verified_at
        return
    user.phone = phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    audit.record(
        actor=user,
        action="account.phone_verified",
        target=user,
        data={"phone": keyed_hash("phone", phone), "previous": keyed_hash("phone", previous)},
    )


def release_unproved_number(*, phone: str, keep: User | None = None) -> None:
    """`phone` (E.164) has just been proved by whoever holds it: any other account that
    has it typed in but never verified loses it (it was never theirs to prove, and a
    number is one person's). Audited by the number's keyed hash only."""
    others = User.objects.select_for_update().filter(phone=phone, phone_verified_at__isnull=True)
    if keep is not None and keep.pk:
        others = others.exclude(pk=keep.pk)
    for other in others:
        other.phone = None
        other.save(update_fields=["phone"])
        audit.record(
            actor=None,
            action="account.unproved_phone_released",
            target=other,
            data={"phone": keyed_hash("phone", phone)},
        )


def set_large_type(*, user: User, on: bool) -> None:
    """Large type (大字模式) on or off for every page the person opens, on any device."""
    if user.large_type != on:
        user.large_type = on
        user.save(update_fields=["large_type"])
