"""The forms of a case's supervision notices and of recusal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mediation import roster
from mediation.models import CaseSupervisionNotice, RecusalRequest, User

TEXT_LIMIT = 2000


class CaseSupervisionAnswerForm(forms.Form):
    notice = forms.ModelChoiceField(label=_("Supervision notice"), queryset=CaseSupervisionNotice.objects.none())
    response = forms.CharField(label=_("Answer"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notice"].queryset = CaseSupervisionNotice.objects.filter(case=case, responded_at__isnull=True)
        self.fields["notice"].label_from_instance = lambda notice: (
            _("%(date)s: %(content)s")
            % {
                "date": notice.issued_at.date().isoformat(),
                "content": notice.content[:60],
            }
        )


class RecusalRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why should another mediator take over?"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The judge decides and tells you why. The other side is not shown your reasons."),
    )


class MediatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        profile = roster.profile_of(user)
        return f"{user} · {profile.organisation}" if profile else str(user)


class RecusalDecisionForm(forms.Form):
    request = forms.ModelChoiceField(label=_("Application"), queryset=RecusalRequest.objects.none())
    grant = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Grant: another mediator takes over")), ("no", _("Refuse: the mediator stays"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    new_mediator = MediatorChoiceField(
        label=_("New mediator"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Only when granting: a mediator who may be assigned cases today."),
    )
    note = forms.CharField(label=_("Reasons"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = RecusalRequest.objects.filter(
            case=case, status=RecusalRequest.Status.PENDING
        ).select_related("party")
        self.fields["request"].label_from_instance = lambda request: (
            _("%(party)s, %(date)s")
            % {
                "party": request.party.name,
                "date": request.requested_at.date().isoformat(),
            }
        )
        self.fields["new_mediator"].queryset = (
            roster.assignable_mediators().exclude(pk=case.mediator_id).order_by("full_name", "pk")
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("grant") and not cleaned.get("new_mediator"):
            self.add_error("new_mediator", _("Choose the new mediator."))
        if cleaned.get("grant") is False:
            cleaned["new_mediator"] = None
        return cleaned
