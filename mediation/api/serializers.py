from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from mediation.models import WorkOrder
from mediation.models.work_orders import Category, Channel, RequesterRole


class OffsetDateTimeField(serializers.DateTimeField):
    """A time that must carry its UTC offset: DRF would otherwise read a bare time in
    the server's zone, and an integration system's clock may be in another one."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError(_("Give the time with its UTC offset, e.g. 2026-10-09T09:30:00+08:00."))
        return super().enforce_timezone(value)


class WorkOrderIntakeSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=128, help_text=_("The caller's own id of the request; repeating it returns the same order.")
    )
    # With their labels, as on the model: the schema then has one enum for each.
    channel = serializers.ChoiceField(
        choices=[
            (choice.value, choice.label)
            for choice in (Channel.HOTLINE, Channel.WECHAT, Channel.PORTAL, Channel.WINDOW, Channel.LETTER)
        ]
    )
    category = serializers.ChoiceField(choices=Category.choices)
    received_at = OffsetDateTimeField(
        required=False, help_text=_("When the call or message was taken, with its UTC offset; not in the future.")
    )
    requester_name = serializers.CharField(max_length=100)
    # Checked and normalised to E.164 by the intake service, which says what is wrong.
    requester_phone = serializers.CharField(max_length=32)
    requester_id_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    requester_role = serializers.ChoiceField(choices=RequesterRole.values, required=False, default=RequesterRole.OTHER)
    case_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    content = serializers.CharField()


class DeadlinesSerializer(serializers.Serializer):
    first_contact_due = serializers.DateTimeField()
    completion_due = serializers.DateTimeField()
    paused = serializers.BooleanField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()


class OutcomeSerializer(serializers.Serializer):
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    return_visit_satisfaction = serializers.CharField()


class WorkOrderSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name", default=None)
    deadlines = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "number",
            "external_id",
            "status",
            "channel",
            "category",
            "received_at",
            "department",
            "deadlines",
            "overdue",
        ]

    def get_deadlines(self, order) -> DeadlinesSerializer:
        return DeadlinesSerializer(
            {
                "first_contact_due": order.first_contact_due,
                "completion_due": order.completion_due,
                "paused": order.is_paused,
            }
        ).data

    def get_overdue(self, order) -> bool:
        return order.is_overdue()


class MediationCaseSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()


class WorkOrderDetailSerializer(WorkOrderSerializer):
    timeline = TimelineEntrySerializer(source="events", many=True)
    outcome = serializers.SerializerMethodField()
    performance = serializers.SerializerMethodField()
    # The mediation cases opened from this order (诉前调解), newest first.
    mediation_cases = MediationCaseSummarySerializer(many=True, read_only=True)

    class Meta(WorkOrderSerializer.Meta):
        fields = [
            *WorkOrderSerializer.Meta.fields,
            "case_number",
            "timeline",
            "outcome",
            "mediation_cases",
            "performance",
        ]

    def get_outcome(self, order) -> OutcomeSerializer:
        return OutcomeSerializer(order).data

    def get_performance(self, order) -> list[dict]:
        """Each settled case's agreement after the seal (documents.performance_summary):
        the codes and counts, and the line the return visit reads, in the reader's language."""
        from documents.performance_summary import order_performance

        return [{**row["summary"], "text": row["text"]} for row in order_performance(order)]


class YearFiguresSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    received = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    replied = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(allow_null=True)
    reply_rate = serializers.FloatField(allow_null=True)
    return_visit_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    received = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(allow_null=True)


class WorkOrderFiguresSerializer(serializers.Serializer):
    years = YearFiguresSerializer(many=True)
    received_cagr = serializers.FloatField(allow_null=True)
    by_channel = BreakdownRowSerializer(many=True)
    by_category = BreakdownRowSerializer(many=True)
    by_department = BreakdownRowSerializer(many=True)


class FiguresQuerySerializer(serializers.Serializer):
    to = serializers.IntegerField(min_value=2000, max_value=2100)

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField(min_value=2000, max_value=2100)
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": _("“from” must not be after “to”.")})
        if attrs["to"] - attrs["from"] > 50:
            raise serializers.ValidationError({"to": _("Ask for at most 50 years at a time.")})
        return attrs
