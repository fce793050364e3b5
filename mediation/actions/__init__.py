"""What a person can do to a work order or a mediation case from its page (and, for
work orders, the API): one `Action` per thing they can do, in one registry per
subject (`actions.work_orders.WORK_ORDER_ACTIONS`, `actions.cases.CASE_ACTIONS`).

An action says what to ask (its form), what to do (its service verb), which policy
rule and state allow it, and what its button says. Pages list exactly the actions
`ActionRegistry.offered` returns, and post to `views.actions.take_action`, which
parses the form, calls the action and renders the result the same way for both
subjects. The services still check the rule and state themselves, under the row
lock: the registry only decides what to offer.

The timeline's labels are another vocabulary: they name what happened (event codes,
some of which no button makes, such as "receive" or "join") and stay with the
services that write the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True, kw_only=True)
class Action:
    """One thing a person can do to a subject (a work order or a case)."""

    # The code in the URL, the form prefix and the policy's vocabulary.
    name: str
    # What the button says (translatable).
    label: Promise
    # What to ask for.
    form_class: type[forms.Form]
    # The service verb: perform(subject, actor, cleaned_data) -> the service's result.
    perform: Callable[[Any, Any, Mapping[str, Any]], Any]
    # The policy rule (and state-machine action) that allows it; several actions can
    # share one, as all session actions share "schedule".
    rule: str
    # Asked before the form is sent, for steps that cannot be taken back.
    confirm: Promise | None = None
    # What the person must know before acting on this subject, shown with the form:
    # `lambda order: _("…") % {...}`. None: nothing.
    notice: Callable[[Any], str] | None = None
    # What the form needs to know of the subject, e.g. `lambda order: {"order": order}`.
    form_kwargs: Callable[[Any], dict] | None = None
    # What must exist for the action to make sense now, beyond the subject's state:
    # a session to end, an invitation to withdraw. None: nothing.
    needs: Callable[[Any], bool] | None = None

    def form(self, subject, data=None, *, prefixed: bool = True) -> forms.Form:
        """The action's form, bound to `data` if given; prefixed by the action's name
        on pages, where several forms share one page, and bare in the API."""
        kwargs = self.form_kwargs(subject) if self.form_kwargs else {}
        return self.form_class(data, prefix=self.name if prefixed else None, **kwargs)

    def run(self, subject, actor, data: Mapping[str, Any]):
        """Call the service with the form's cleaned data."""
        return self.perform(subject, actor, data)


@dataclass(frozen=True)
class OfferedAction:
    """An action as a page shows it: its form (bound after a failed post) and where
    the form posts."""

    action: Action
    form: forms.Form
    url: str
    notice: str = ""


class ActionRegistry:
    """The actions on one kind of subject, in the order pages list them."""

    def __init__(
        self,
        actions: list[Action],
        *,
        may: Callable[[Any, str, Any], bool],
        url_name: str,
        url_key: Callable[[Any], Any],
    ):
        names = [action.name for action in actions]
        if len(set(names)) != len(names):
            raise ValueError(f"Duplicate action names: {names}")
        self._actions = {action.name: action for action in actions}
        # policy.can / policy.can_on_case: whether a user may, by the rule's name.
        self._may = may
        self.url_name = url_name
        self._url_key = url_key

    def register(self, *actions: Action) -> None:
        """Add actions defined in another module (e.g. mediation.actions.delegation),
        listed after those already here."""
        for action in actions:
            if action.name in self._actions:
                raise ValueError(f"Duplicate action name: {action.name}")
            self._actions[action.name] = action

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __getitem__(self, name: str) -> Action:
        return self._actions[name]

    def get(self, name: str) -> Action | None:
        return self._actions.get(name)

    def actions(self) -> list[Action]:
        return list(self._actions.values())

    def allows(self, user, action: Action, subject) -> bool:
        """Whether to offer `action` to `user` now: the subject's state allows its rule,
        the policy lets this user act by it, and what it acts on exists."""
        return (
            subject.allows(action.rule)
            and self._may(user, action.rule, subject)
            and (action.needs is None or action.needs(subject))
        )

    def offered(self, user, subject) -> list[Action]:
        """The actions a user may take on the subject now, in page order."""
        return [action for action in self._actions.values() if self.allows(user, action, subject)]

    def url(self, subject, action: Action) -> str:
        """Where the action's form posts."""
        return reverse(self.url_name, args=[self._url_key(subject), action.name])
