"""The mediator's form to record an act done in person."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import Service
from documents.models.in_person import InPersonAct
from documents.services.in_person import CAPACITIES
from mediation.forms import LOCAL_DATETIME_FORMATS, DateTimeInput
from mediation.models import MediationCase, ParticipantRole, Party


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service):
        return _("%(recipient)s, served %(date)s") % {
            "recipient": service.recipient,
            "date": timezone.localdate(service.served_at).isoformat() if service.served_at else "—",
        }


class InPersonActForm(forms.Form):
    # A mediation record's paper signature is recorded from the record's page.
    kind = forms.ChoiceField(
        label=_("What was done"),
        choices=[(k, label) for k, label in InPersonAct.Kind.choices if k != InPersonAct.Kind.RECORD_PAPER_SIGNATURE],
    )
    party = forms.ModelChoiceField(label=_("For the party"), queryset=Party.objects.none())
    person_name = forms.CharField(label=_("Name of the person who acted"), max_length=100)
    capacity = forms.ChoiceField(
        label=_("In which capacity"),
        choices=[(role.value, role.label) for role in ParticipantRole if role in CAPACITIES],
    )
    place = forms.ChoiceField(label=_("Where"), choices=InPersonAct.Place.choices)
    place_detail = forms.CharField(label=_("Where exactly (room, address)"), max_length=200, required=False)
    occurred_at = forms.DateTimeField(label=_("When"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS)
    service = ServiceChoiceField(
        label=_("The service acknowledged (acknowledgement of service only)"),
        queryset=Service.objects.none(),
        required=False,
    )
    scan = forms.FileField(label=_("Scan of the signed paper (PDF, PNG or JPEG, at most 20 MB)"))

    def __init__(self, *args, case: MediationCase, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = case.parties.all()
        self.fields["service"].queryset = services if services is not None else Service.objects.none()


class RecordPaperSignatureForm(forms.Form):
    """A party's signature on a paper copy of a mediation record, witnessed by the mediator."""

    party = forms.ModelChoiceField(label=_("For the party"), queryset=Party.objects.none())
    person_name = forms.CharField(label=_("Name of the person who acted"), max_length=100)
    capacity = forms.ChoiceField(
        label=_("In which capacity"),
        choices=[(role.value, role.label) for role in ParticipantRole if role in CAPACITIES],
    )
    place = forms.ChoiceField(label=_("Where"), choices=InPersonAct.Place.choices)
    place_detail = forms.CharField(label=_("Where exactly (room, address)"), max_length=200, required=False)
    occurred_at = forms.DateTimeField(label=_("When"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS)
    scan = forms.FileField(label=_("Scan of the signed paper (PDF, PNG or JPEG, at most 20 MB)"))

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties
