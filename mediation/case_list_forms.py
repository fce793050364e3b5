"""The case list's search box and filters (GET parameters)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mediation.models import MediationCase, MediationOrganisation, User
from mediation.roles import Role
from mediation.selectors.case_list import QUERY_MAX_LENGTH, CaseListFilters


class CaseListFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=QUERY_MAX_LENGTH,
        help_text=_("Case number (or part of it), party name, party phone or mediator name"),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *MediationCase.Status.choices], required=False
    )
    mediator = forms.ModelChoiceField(
        label=_("Mediator"),
        queryset=User.objects.filter(groups__name=Role.MEDIATOR).order_by("full_name", "pk"),
        required=False,
        empty_label=_("Any mediator"),
    )
    organisation = forms.ModelChoiceField(
        label=_("Mediation organisation"),
        queryset=MediationOrganisation.objects.order_by("name", "pk"),
        required=False,
        empty_label=_("Any organisation"),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def filters(self) -> CaseListFilters:
        """The filters that were understood; a value that was not is left out (the
        view says which)."""
        data = self.cleaned_data if self.is_bound else {}
        mediator = data.get("mediator")
        organisation = data.get("organisation")
        return CaseListFilters(
            query=data.get("q") or "",
            status=data.get("status") or "",
            mediator=mediator.pk if mediator else None,
            organisation=organisation.pk if organisation else None,
            overdue=bool(data.get("overdue")),
        )
