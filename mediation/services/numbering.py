from django.db import transaction
from django.db.models import F

from mediation.models import NumberSequence


def next_sequence_value(key: str) -> int:
    """Increment and return a named counter. The UPDATE takes the row's write lock,
    so concurrent callers get distinct values on PostgreSQL and SQLite alike."""
    with transaction.atomic():
        NumberSequence.objects.get_or_create(key=key)
        NumberSequence.objects.filter(key=key).update(last_value=F("last_value") + 1)
        return NumberSequence.objects.values_list("last_value", flat=True).get(key=key)
