"""The mediator's form for the mediation record of a session (调解笔录): a template
filled in from the session (its times, the people of its room)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import MediationRecord
from documents.services import mediation_records
from mediation.forms import LOCAL_DATETIME_FORMATS, DateTimeInput
from mediation.models import MediationSession, side_label

TEXT = {"max_length": mediation_records.MAX_TEXT, "required": False}


class MediationRecordForm(forms.Form):
    started_at = forms.DateTimeField(
        label=_("Started at"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS
    )
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS)
    mode = forms.ChoiceField(label=_("How the session was held"), choices=MediationRecord.Mode.choices)
    place = forms.CharField(label=_("Place (in person)"), max_length=200, required=False)
    recorder = forms.CharField(label=_("Recorder (if not the mediator)"), max_length=100, required=False)
    attendees = forms.MultipleChoiceField(label=_("Who attended"), widget=forms.CheckboxSelectMultiple)
    others = forms.CharField(
        label=_("Others who attended, one a line: name, capacity"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
    )
    agreed = forms.CharField(label=_("Points agreed"), widget=forms.Textarea(attrs={"rows": 3}), **TEXT)
    disputed = forms.CharField(label=_("Points still in dispute"), widget=forms.Textarea(attrs={"rows": 3}), **TEXT)
    mediator_note = forms.CharField(label=_("Mediator's note"), widget=forms.Textarea(attrs={"rows": 3}), **TEXT)

    def __init__(self, *args, session: MediationSession, record: MediationRecord | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = mediation_records.attendee_choices(session)
        self.sides = mediation_records.sides_of(session)
        for side in self.sides:
            self.fields[f"statements_{side}"] = forms.CharField(
                label=_("%(side)s: what they stated") % {"side": side_label(side)},
                widget=forms.Textarea(attrs={"rows": 4}),
                **TEXT,
            )
            self.fields[f"claims_{side}"] = forms.CharField(
                label=_("%(side)s: what they asked") % {"side": side_label(side)},
                widget=forms.Textarea(attrs={"rows": 3}),
                **TEXT,
            )
        # Field order: the head, then each side, then the outcome.
        order = ["started_at", "ended_at", "mode", "place", "recorder", "attendees", "others"]
        order += [f"{kind}_{side}" for side in self.sides for kind in ("statements", "claims")]
        self.order_fields([*order, "agreed", "disputed", "mediator_note"])
        if not self.is_bound:
            self.initial.update(_initial(session, record))


def _initial(session: MediationSession, record: MediationRecord | None) -> dict:
    """The template: the session's times and everyone of its room, or the draft as written."""
    if record is None:
        ended = session.ended_at or timezone.now()
        return {
            "started_at": timezone.localtime(session.started_at),
            "ended_at": timezone.localtime(ended),
            "mode": MediationRecord.Mode.VIDEO,
            "attendees": [code for code, _label in mediation_records.attendee_choices(session)],
        }
    initial = {
        "started_at": timezone.localtime(record.started_at),
        "ended_at": timezone.localtime(record.ended_at),
        "mode": record.mode,
        "place": record.place,
        "recorder": record.recorder,
        "attendees": [
            f"participant-{e['participant']}" if "participant" in e else f"staff-{e['staff']}"
            for e in record.attendance
            if "participant" in e or "staff" in e
        ],
        "others": "\n".join(f"{e['name']}, {e.get('capacity', '')}" for e in record.attendance if "name" in e),
        "agreed": record.agreed,
        "disputed": record.disputed,
        "mediator_note": record.mediator_note,
    }
    for side, entry in record.statements.items():
        initial[f"statements_{side}"] = entry.get("statements", "")
        initial[f"claims_{side}"] = entry.get("claims", "")
    return initial
