from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mediation import id_numbers, phones
from mediation.models import (
    ApiToken,
    AuditEntry,
    CalendarDay,
    CalendarYear,
    DeadlinePolicy,
    Department,
    IdentityCheck,
    SmsMessage,
    SmsReceipt,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WorkOrder,
    WorkOrderEvent,
)
from mediation.roles import API_CLIENT_GROUP, Role
from mediation.services.api_tokens import revoke_api_token


class StaffHaveAnAddress:
    """Staff sign in with their address, password and TOTP, never by SMS code alone,
    so a staff account always has an address. A party's account may have none."""

    def clean(self):
        cleaned_data = super().clean()
        groups = {group.name for group in cleaned_data.get("groups") or []}
        staff = (
            cleaned_data.get("is_staff")
            or cleaned_data.get("is_superuser")
            or groups & {*Role.values, API_CLIENT_GROUP}
            or self.address_always_required
        )
        if staff and not cleaned_data.get("email") and "email" not in self.errors:
            self.add_error("email", forms.ValidationError(_("Court staff need an email address."), code="required"))
        return cleaned_data


class CourtUserChangeForm(StaffHaveAnAddress, UserChangeForm):
    address_always_required = False


class CourtUserCreationForm(StaffHaveAnAddress, AdminUserCreationForm):
    # Accounts made here are the court's (parties come through invitations).
    address_always_required = True


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through services (with their timeline and audit
    entries) are shown, never edited, here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = CourtUserChangeForm
    add_form = CourtUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "masked_phone", "department", "is_active", "is_staff"]
    list_filter = ["groups", "department", "is_active", "is_staff"]
    search_fields = ["email", "full_name", "phone"]
    # What was verified of a person is changed only by verifying it (a code texted to
    # the number, an ID check): an administrator editing the number or a verified name
    # here would leave a "verified" mark on something nobody checked.
    readonly_fields = [
        "masked_phone",
        "phone_verified_at",
        "real_name_verified_at",
        "real_name_verified_by",
        "real_name_verifier",
    ]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "masked_phone", "department", "language"]}),
        (
            _("Identity"),
            {"fields": ["phone_verified_at", "real_name_verified_at", "real_name_verified_by", "real_name_verifier"]},
        ),
        (_("Roles and permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "full_name", "department", "groups", "password1", "password2"]},
        ),
    ]
    filter_horizontal = ["groups"]

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, user) -> str:
        return phones.mask(user.phone) if user.phone else ""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.real_name_verified_at:
            fields.append("full_name")
        return fields


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "first_contact_hours", "completion_working_days"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "name", "source"]
    list_filter = ["is_working_day", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def changelist_view(self, request, extra_context=None):
        years = list(CalendarYear.objects.values_list("year", flat=True))
        if years:
            self.message_user(
                request,
                _(
                    "The official holiday schedule is loaded for %(first)s–%(last)s. Dates outside these years "
                    "fall back to Monday to Friday until the schedule is loaded (manage.py load_holidays) or "
                    "the days are entered here."
                )
                % {"first": years[0], "last": years[-1]},
                messages.INFO,
            )
        else:
            self.message_user(
                request,
                _("No official holiday schedule is loaded: every date falls back to Monday to Friday."),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "channel", "category", "department", "assignee", "received_at"]
    list_filter = ["status", "channel", "category", "department"]
    search_fields = ["number", "requester_name", "requester_phone", "case_number"]
    # The operator's account does not handle orders: it reads the requester's numbers
    # masked, like every page (mediation.disclosure).
    exclude = ["requester_phone", "requester_id_number"]
    readonly_fields = ["masked_requester_phone", "masked_requester_id_number"]

    @admin.display(description=_("requester phone"))
    def masked_requester_phone(self, order):
        return phones.mask(order.requester_phone)

    @admin.display(description=_("requester ID number"))
    def masked_requester_id_number(self, order):
        return id_numbers.mask(order.requester_id_number) if order.requester_id_number else ""


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "action", "from_status", "to_status", "actor", "created_at"]


@admin.register(IdentityCheck)
class IdentityCheckAdmin(ReadOnlyAdmin):
    """Real-name checks, recorded only through `verify_real_name`. The ID number is
    not here (only its keyed hash), nor the scan: that opens from the case page for
    those who may see it."""

    list_display = ["id", "user", "verifier", "verified_by", "verified_at", "case"]
    list_filter = ["verifier"]
    exclude = ["evidence_storage_name"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]

    def get_queryset(self, request):
        # The trail keeps the actor's id only: their name is looked up as the page is
        # read, so an erased account shows as its id (audit.actor_display).
        accounts = User.objects.filter(pk=OuterRef("actor_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                actor_full_name=Subquery(accounts.values("full_name")[:1]),
                actor_email=Subquery(accounts.values("email")[:1]),
            )
        )

    @admin.display(description=_("actor"))
    def actor(self, entry):
        if entry.actor_id is not None and (entry.actor_full_name or entry.actor_email):
            return entry.actor_full_name or entry.actor_email
        from mediation.audit import actor_display

        return actor_display(entry, users={})


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        # The revoke action needs change permission; fields stay read-only.
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ApiToken._meta.fields]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_api_token(token=token)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "response_status", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "endpoint", "event", "status", "attempt_count", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "endpoint"]
    inlines = [WebhookAttemptInline]


class SmsReceiptInline(admin.TabularInline):
    model = SmsReceipt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["provider", "delivered", "code", "reported_at", "received_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    """Text messages and their delivery (docs/sms.md): the number masked in the list,
    the text only once it is out of our hands (a queued one-time code stays unseen)."""

    list_display = ["id", "created_at", "template", "masked_to", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status", "template", "backend"]
    search_fields = ["provider_message_id"]
    inlines = [SmsReceiptInline]
    fields = [
        "to",
        "template",
        "language",
        "text",
        "backend",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_error",
        "provider_message_id",
        "receipt_code",
        "created_at",
        "sent_at",
        "delivered_at",
        "failed_at",
    ]
    readonly_fields = fields

    @admin.display(description=pgettext_lazy("sms", "Recipient"))
    def masked_to(self, message):
        from mediation.phones import mask

        return mask(message.to)

    @admin.display(description=_("text"))
    def text(self, message):
        return "—" if message.status == SmsMessage.Status.QUEUED else message.body
