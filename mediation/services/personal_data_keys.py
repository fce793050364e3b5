"""Re-encrypting personal data under the newest key (mediation.personal_data): after a
new key is put first in PERSONAL_DATA_KEYS, every encrypted value still under an older
one is decrypted and encrypted again under the first, in batches, each batch in its
own transaction with its rows locked (a value changed meanwhile is read fresh, never
overwritten with a stale copy). Once it reports nothing left under older keys, the old
key can be dropped from the setting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from mediation import personal_data


@dataclass
class FieldReport:
    label: str
    rotated: int = 0
    current: int = 0
    # Primary keys of the values no configured key decrypts.
    unreadable: list = field(default_factory=list)


def encrypted_fields() -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every concrete encrypted field of every installed model."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, personal_data.EncryptedCharField):
                yield model, model_field


def _rotate_batch(model, model_field, after, batch_size: int, report: FieldReport):
    """Rotate up to `batch_size` values with a primary key above `after`; the last
    primary key seen, or None when there are no more."""
    with transaction.atomic():
        rows = list(
            model._base_manager.select_for_update()
            .filter(pk__gt=after)
            .exclude(**{model_field.attname: ""})
            .order_by("pk")
            # The stored token itself: the field would decrypt it on reading.
            .annotate(stored_token=Cast(model_field.attname, models.TextField()))
            .values_list("pk", "stored_token")[:batch_size]
        )
        for pk, token in rows:
            if not token:
                continue
            if personal_data.is_current(token):
                report.current += 1
                continue
            try:
                clear = personal_data.decrypt(token)
            except InvalidToken:
                report.unreadable.append(pk)
                continue
            # The field encrypts on saving, under the first key. update() leaves save()
            # (and the keyed hash beside the value, unchanged as the value is) alone.
            model._base_manager.filter(pk=pk).update(**{model_field.attname: clear})
            report.rotated += 1
    return rows[-1][0] if rows else None


def rotate_personal_data_keys(*, batch_size: int = 500) -> list[FieldReport]:
    """Re-encrypt every encrypted value not under the first key; one report per field."""
    reports = []
    for model, model_field in encrypted_fields():
        report = FieldReport(label=f"{model._meta.label}.{model_field.name}")
        after = 0 if isinstance(model._meta.pk, models.AutoField | models.BigAutoField) else None
        if after is None:
            raise ValueError(f"{report.label}: only models with an integer primary key can be rotated in batches.")
        while (last := _rotate_batch(model, model_field, after, batch_size, report)) is not None:
            after = last
        reports.append(report)
    return reports
