"""A party's application to replace the mediator (申请回避) and the judge's decision."""

from django.utils.translation import gettext_lazy

from mediation.actions import Action
from mediation.actions.cases import CASE_ACTIONS
from mediation.models import RecusalRequest
from mediation.services import recusal
from mediation.supervision_forms import RecusalDecisionForm, RecusalRequestForm


def _pending(case) -> bool:
    return RecusalRequest.objects.filter(case=case, status=RecusalRequest.Status.PENDING).exists()


CASE_ACTIONS.register(
    Action(
        name="request_recusal",
        label=gettext_lazy("Ask for another mediator"),
        form_class=RecusalRequestForm,
        perform=lambda case, actor, data: recusal.request_recusal(case=case, actor=actor, reason=data["reason"]),
        rule="request_recusal",
    ),
    Action(
        name="decide_recusal",
        label=gettext_lazy("Decide on the application to replace the mediator"),
        form_class=RecusalDecisionForm,
        perform=lambda case, actor, data: recusal.decide_recusal(
            request=data["request"],
            actor=actor,
            grant=data["grant"],
            note=data["note"],
            new_mediator=data.get("new_mediator"),
        ),
        rule="decide_recusal",
        form_kwargs=lambda case: {"case": case},
        needs=_pending,
    ),
)
