"""What a person can do in a mediation case from its page (or the API): per action,
the form that asks for it, the service that does it, and the rule and state that
allow it."""

from django.utils.translation import gettext_lazy

from mediation.forms import (
    ExtensionForm,
    FilingForm,
    InvitationChoiceForm,
    InvitationForm,
    NoteForm,
    PartyForm,
    ReasonForm,
    RemoveParticipantForm,
    SessionChoiceForm,
    SessionForm,
)
from mediation.services import cases, invitations, sessions

# action: (form, service call, the rule and state it needs)
CASE_ACTIONS = {
    "start": (NoteForm, lambda case, user, data: cases.start_mediation(case=case, actor=user), "start"),
    "add_party": (PartyForm, lambda case, user, data: cases.add_party(case=case, actor=user, **data), "add_party"),
    "invite": (
        InvitationForm,
        lambda case, user, data: invitations.invite_participant(case=case, actor=user, **data),
        "invite",
    ),
    "revoke_invitation": (
        InvitationChoiceForm,
        lambda case, user, data: invitations.revoke_invitation(invitation=data["invitation"], actor=user),
        "invite",
    ),
    "schedule": (
        SessionForm,
        lambda case, user, data: sessions.schedule_session(case=case, actor=user, **data),
        "schedule",
    ),
    "start_session": (
        SessionChoiceForm,
        lambda case, user, data: sessions.start_session(session=data["session"], actor=user),
        "schedule",
    ),
    "end_session": (
        SessionChoiceForm,
        lambda case, user, data: sessions.end_session(session=data["session"], actor=user),
        "schedule",
    ),
    "cancel_session": (
        SessionChoiceForm,
        lambda case, user, data: sessions.cancel_session(session=data["session"], actor=user),
        "schedule",
    ),
    "remove_participant": (
        RemoveParticipantForm,
        lambda case, user, data: cases.remove_participant(
            participant=data["participant"], actor=user, reason=data["reason"]
        ),
        "remove_participant",
    ),
    "extend": (
        ExtensionForm,
        lambda case, user, data: cases.extend_case_deadline(
            case=case, actor=user, new_deadline=data["new_deadline"], reason=data["reason"]
        ),
        "extend",
    ),
    "fail": (
        ReasonForm,
        lambda case, user, data: cases.fail_case(case=case, actor=user, reason=data["reason"]),
        "fail",
    ),
    "withdraw": (
        ReasonForm,
        lambda case, user, data: cases.withdraw_case(case=case, actor=user, reason=data["reason"]),
        "withdraw",
    ),
    "transfer_to_filing": (
        FilingForm,
        lambda case, user, data: cases.transfer_to_filing(
            case=case, actor=user, filed_case_number=data["filed_case_number"]
        ),
        "transfer_to_filing",
    ),
}

# What the buttons say (the timeline uses services.cases.CASE_ACTION_LABELS).
CASE_ACTION_BUTTONS = {
    "start": gettext_lazy("Start mediation"),
    "add_party": gettext_lazy("Add a party"),
    "invite": gettext_lazy("Invite a participant"),
    "revoke_invitation": gettext_lazy("Withdraw an invitation"),
    "schedule": gettext_lazy("Schedule a session"),
    "start_session": gettext_lazy("Start a session"),
    "end_session": gettext_lazy("End a session"),
    "cancel_session": gettext_lazy("Cancel a session"),
    "remove_participant": gettext_lazy("Remove a participant"),
    "extend": gettext_lazy("Extend the deadline"),
    "fail": gettext_lazy("Record that mediation failed"),
    "withdraw": gettext_lazy("Record a withdrawal"),
    "transfer_to_filing": gettext_lazy("File as an ordinary case"),
}

FORMS_NEEDING_THE_CASE = (InvitationForm, RemoveParticipantForm, SessionChoiceForm, InvitationChoiceForm)


def case_form_for(action, case, data=None, *, prefixed=True):
    form_class = CASE_ACTIONS[action][0]
    prefix = action if prefixed else None
    if form_class in FORMS_NEEDING_THE_CASE:
        return form_class(data, case=case, prefix=prefix)
    return form_class(data, prefix=prefix)


def perform_case_action(action, case, user, data):
    return CASE_ACTIONS[action][1](case, user, data)


def rule_of(action) -> str:
    return CASE_ACTIONS[action][2]
