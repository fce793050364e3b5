"""Supervision notices (督办) on a case: issued by the judge, a department head or the
general liaison, answered by the mediator."""

from django.utils.translation import gettext_lazy

from mediation.actions import Action
from mediation.actions.cases import CASE_ACTIONS
from mediation.forms import SupervisionForm
from mediation.models import CaseSupervisionNotice
from mediation.services import case_supervision
from mediation.supervision_forms import CaseSupervisionAnswerForm

CASE_ACTIONS.register(
    Action(
        name="supervise",
        label=gettext_lazy("Issue a supervision notice"),
        form_class=SupervisionForm,
        perform=lambda case, actor, data: case_supervision.issue_case_supervision_notice(
            case=case, actor=actor, content=data["content"], due_at=data["due_at"]
        ),
        rule="supervise",
    ),
    Action(
        name="answer_supervision",
        label=gettext_lazy("Answer a supervision notice"),
        form_class=CaseSupervisionAnswerForm,
        perform=lambda case, actor, data: case_supervision.answer_case_supervision_notice(
            notice=data["notice"], actor=actor, response=data["response"]
        ),
        rule="answer_supervision",
        form_kwargs=lambda case: {"case": case},
        needs=lambda case: CaseSupervisionNotice.objects.filter(case=case, responded_at__isnull=True).exists(),
    ),
)
