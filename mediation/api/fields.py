"""Serializer fields for personal data in API answers: a phone or resident ID number
whole or masked for the request's user, by the one rule of each (mediation.disclosure).

The serializer's context carries the `request` and, unless the instance is the party
or the work order itself, the `case` or `order` the value belongs to:

    class PartySerializer(serializers.Serializer):
        phone = ShownPhoneField()
        id_number = ShownIdNumberField()

    PartySerializer(parties, many=True, context={"request": request, "case": case})
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mediation import disclosure
from mediation.models import Party, WorkOrder


def _scope(field: serializers.Field, instance) -> dict:
    """The case, order and party a value of `instance` belongs to."""
    party = instance if isinstance(instance, Party) else None
    order = instance if isinstance(instance, WorkOrder) else field.context.get("order")
    case = field.context.get("case") or (party.case if party is not None else None)
    return {"case": case, "order": order, "party": party}


class _ShownField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        # The instance goes along with its value: the rule depends on whose it is.
        return instance, super().get_attribute(instance)

    def reader(self):
        request = self.context.get("request")
        return getattr(request, "user", None)


@extend_schema_field(OpenApiTypes.STR)
class ShownPhoneField(_ShownField):
    """A phone number, whole (national form at home) or masked (138****1234)."""

    def to_representation(self, value) -> str:
        instance, number = value
        return disclosure.shown_phone(number, self.reader(), **_scope(self, instance))


@extend_schema_field(OpenApiTypes.STR)
class ShownIdNumberField(_ShownField):
    """A resident ID number, whole or masked (110***********1234)."""

    def to_representation(self, value) -> str:
        instance, number = value
        scope = _scope(self, instance)
        return disclosure.shown_id_number(number, self.reader(), case=scope["case"], order=scope["order"])
