"""The form of the case action "fail" (调解不成): the reason and the facts both sides
accepted (无争议事实记载), which go into the filing package for the case-filing
division. The mediator writes the facts, or says explicitly that the parties accepted
none: an empty box alone is not an answer."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mediation.services.cases import MAX_UNDISPUTED_FACTS


class FailForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    undisputed_facts = forms.CharField(
        label=_("Facts both sides accepted"),
        required=False,
        max_length=MAX_UNDISPUTED_FACTS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What both parties accepted in mediation, e.g. that a contract was signed and when. "
            "They go into the filing package for the case-filing division."
        ),
    )
    no_undisputed_facts = forms.BooleanField(label=_("The parties accepted no fact as undisputed"), required=False)

    def clean(self):
        data = super().clean()
        facts = (data.get("undisputed_facts") or "").strip()
        none = data.get("no_undisputed_facts")
        if facts and none:
            raise ValidationError(
                _("Either write the facts both sides accepted, or tick that they accepted none, not both.")
            )
        if not facts and not none and "undisputed_facts" not in self.errors:
            self.add_error(
                "undisputed_facts",
                _("Write the facts both sides accepted, or tick that the parties accepted none."),
            )
        return data
