"""The actions in a mediation case, in the order its page lists them. The mediator
runs the case (parties, invitations, sessions, participants, outcome); the judge or
the general liaison extends the deadline. Settling is not here: a case is settled
by signing its agreement (documents app)."""

from django.utils.translation import gettext_lazy

from mediation import policy
from mediation.actions import Action, ActionRegistry
from mediation.forms import (
    ExtensionForm,
    FilingForm,
    InvitationChoiceForm,
    InvitationForm,
    NoteForm,
    PartyEditForm,
    PartyForm,
    PartyRemoveForm,
    ReasonForm,
    RemoveParticipantForm,
    SessionChoiceForm,
    SessionForm,
)
from mediation.forms_failure import FailForm
from mediation.models import Participant, Party
from mediation.selectors.cases import open_invitations, sessions_open_to
from mediation.services import cases, invitations, parties, sessions

CANNOT_BE_UNDONE = gettext_lazy("This cannot be undone. Continue?")


def _of_case(case) -> dict:
    return {"case": case}


def _parties_may_change(case) -> bool:
    return case.parties.exists() and cases.why_parties_are_frozen(case) is None


def _party_details(data) -> dict:
    return {field: data[field] for field in Party.DETAILS}


# Shown with each party on the case page (its form filled with that party's details),
# not in the list of actions.
PARTY_ACTIONS = ("edit_party", "remove_party")


def _session_step(step: str) -> dict:
    """A session action's form (offering the sessions `step` can take) and what it
    needs (one such session)."""
    return {
        "form_kwargs": lambda case: {"case": case, "step": step},
        "needs": lambda case: sessions_open_to(case, step).exists(),
    }


CASE_ACTIONS = ActionRegistry(
    [
        Action(
            name="start",
            label=gettext_lazy("Start mediation"),
            form_class=NoteForm,
            perform=lambda case, actor, data: cases.start_mediation(case=case, actor=actor),
            rule="start",
        ),
        Action(
            name="add_party",
            label=gettext_lazy("Add a party"),
            form_class=PartyForm,
            perform=lambda case, actor, data: cases.add_party(case=case, actor=actor, **data),
            rule="add_party",
            needs=lambda case: cases.why_parties_are_frozen(case) is None,
        ),
        Action(
            name="edit_party",
            label=gettext_lazy("Correct the party's details"),
            form_class=PartyEditForm,
            perform=lambda case, actor, data: parties.edit_party(
                party=data["party"], actor=actor, **_party_details(data)
            ),
            rule="edit_party",
            form_kwargs=_of_case,
            needs=_parties_may_change,
        ),
        Action(
            name="remove_party",
            label=gettext_lazy("Remove this party"),
            form_class=PartyRemoveForm,
            perform=lambda case, actor, data: parties.remove_party(
                party=data["party"], actor=actor, reason=data["reason"]
            ),
            rule="remove_party",
            confirm=CANNOT_BE_UNDONE,
            form_kwargs=_of_case,
            needs=_parties_may_change,
        ),
        Action(
            name="invite",
            label=gettext_lazy("Invite a participant"),
            form_class=InvitationForm,
            perform=lambda case, actor, data: invitations.invite_participant(case=case, actor=actor, **data),
            rule="invite",
            form_kwargs=_of_case,
            needs=lambda case: case.parties.exists(),
        ),
        Action(
            name="revoke_invitation",
            label=gettext_lazy("Withdraw an invitation"),
            form_class=InvitationChoiceForm,
            perform=lambda case, actor, data: invitations.revoke_invitation(invitation=data["invitation"], actor=actor),
            rule="invite",
            form_kwargs=_of_case,
            needs=lambda case: open_invitations(case).exists(),
        ),
        Action(
            name="schedule",
            label=gettext_lazy("Schedule a session"),
            form_class=SessionForm,
            perform=lambda case, actor, data: sessions.schedule_session(case=case, actor=actor, **data),
            rule="schedule",
        ),
        Action(
            name="start_session",
            label=gettext_lazy("Start a session"),
            form_class=SessionChoiceForm,
            perform=lambda case, actor, data: sessions.start_session(session=data["session"], actor=actor),
            rule="schedule",
            **_session_step("start"),
        ),
        Action(
            name="end_session",
            label=gettext_lazy("End a session"),
            form_class=SessionChoiceForm,
            perform=lambda case, actor, data: sessions.end_session(session=data["session"], actor=actor),
            rule="schedule",
            **_session_step("end"),
        ),
        Action(
            name="cancel_session",
            label=gettext_lazy("Cancel a session"),
            form_class=SessionChoiceForm,
            perform=lambda case, actor, data: sessions.cancel_session(session=data["session"], actor=actor),
            rule="schedule",
            **_session_step("cancel"),
        ),
        Action(
            name="remove_participant",
            label=gettext_lazy("Remove a participant"),
            form_class=RemoveParticipantForm,
            perform=lambda case, actor, data: cases.remove_participant(
                participant=data["participant"], actor=actor, reason=data["reason"]
            ),
            rule="remove_participant",
            confirm=CANNOT_BE_UNDONE,
            form_kwargs=_of_case,
            needs=lambda case: Participant.active.filter(case=case).exists(),
        ),
        Action(
            name="extend",
            label=gettext_lazy("Extend the deadline"),
            form_class=ExtensionForm,
            perform=lambda case, actor, data: cases.extend_case_deadline(
                case=case, actor=actor, new_deadline=data["new_deadline"], reason=data["reason"]
            ),
            rule="extend",
        ),
        Action(
            name="fail",
            label=gettext_lazy("Record that mediation failed"),
            form_class=FailForm,
            perform=lambda case, actor, data: cases.fail_case(
                case=case, actor=actor, reason=data["reason"], undisputed_facts=data["undisputed_facts"]
            ),
            rule="fail",
            confirm=CANNOT_BE_UNDONE,
        ),
        Action(
            name="withdraw",
            label=gettext_lazy("Record a withdrawal"),
            form_class=ReasonForm,
            perform=lambda case, actor, data: cases.withdraw_case(case=case, actor=actor, reason=data["reason"]),
            rule="withdraw",
            confirm=CANNOT_BE_UNDONE,
        ),
        Action(
            name="transfer_to_filing",
            label=gettext_lazy("File as an ordinary case"),
            form_class=FilingForm,
            perform=lambda case, actor, data: cases.transfer_to_filing(
                case=case, actor=actor, filed_case_number=data["filed_case_number"]
            ),
            rule="transfer_to_filing",
        ),
    ],
    may=policy.can_on_case,
    url_name="case_action",
    url_key=lambda case: case.pk,
)
from mediation.actions import delegation as _delegation  # noqa: E402,F401
from mediation.actions import recusal as _recusal  # noqa: E402,F401
from mediation.actions import supervision as _supervision  # noqa: E402,F401
