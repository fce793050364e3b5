"""/apply/ and /apply/track/: public pages where a citizen asks for mediation and
follows their requests, with their mobile number proved by SMS codes. Anyone may
open them; what they can do is bound by the codes (mediation.verification_codes),
by a throttle per client address and by the size of what they send."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mediation import phones, throttle
from mediation.application_forms import ApplicationForm, TrackForm
from mediation.client_address import client_ip
from mediation.selectors import applications as selectors
from mediation.services import applications as services
from mediation.verification_codes import RESEND_AFTER, CodeRefused
from mediation.views.forms import attach_errors

APPLIED_ORDER = "apply:order"
TRACK_PHONE = "track:phone"
TRACK_UNTIL = "track:until"


def _throttled(request, scope: str, template: str, context: dict):
    allowed, retry_after = throttle.allow(
        scope=scope,
        address=client_ip(request),
        limit=settings.APPLY_THROTTLE_REQUESTS,
        window=settings.APPLY_THROTTLE_WINDOW_SECONDS,
    )
    if allowed:
        return None
    context["refusal"] = _("Too many requests came from your connection. Try again in %(seconds)s seconds.") % {
        "seconds": retry_after
    }
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _send_code(request, form, send, context) -> None:
    """Send a code to the form's number, or show on the number why not."""
    try:
        record = send(phone=form.cleaned_data["phone"], client_address=client_ip(request), language=get_language())
    except ValidationError as error:
        attach_errors(form, error)
    except CodeRefused as error:
        form.add_error("phone", error.message)
        context["resend_after"] = error.retry_after or 0
    else:
        context["code_sent_to"] = phones.mask(record.phone)
        context["resend_after"] = int(RESEND_AFTER.total_seconds())


def _chosen_on_roster(request) -> tuple[dict, str]:
    """The mediator the public roster's link chose (`?mediator=<profile id>`), as the
    form's initial value, or why it cannot be chosen."""
    if request.method != "GET" or not request.GET.get("mediator"):
        return {}, ""
    profile = services.chosen_mediator(request.GET["mediator"][:12])
    if profile is None:
        return {}, _(
            "The mediator in the link is not on the court's public roster (any more). Choose another, or none."
        )
    return {"preferred_mediator": str(profile.pk)}, ""


@require_http_methods(["GET", "POST"])
def apply(request):
    initial, mediator_refused = _chosen_on_roster(request)
    form = ApplicationForm(request.POST or None, initial=initial)
    context = {"form": form, "code_sent_to": "", "resend_after": 0, "mediator_refused": mediator_refused}
    status = 200
    if request.method == "POST":
        refused = _throttled(request, "apply", "mediation/apply.html", context)
        if refused:
            return refused
        if form.is_valid():
            if request.POST.get("action") == "send_code":
                _send_code(request, form, services.send_apply_code, context)
            else:
                fields = dict(form.cleaned_data)
                code = fields.pop("code")
                try:
                    order = services.apply_for_mediation(code=code, language=get_language(), **fields)
                except ValidationError as error:
                    attach_errors(form, error)
                except CodeRefused as error:
                    form.add_error("code", error.message)
                    if error.code == "too_many_tries":
                        status = 429
                else:
                    request.session[APPLIED_ORDER] = order.number
                    return redirect("apply_done")
        if form.errors and status == 200:
            status = 400
    return render(request, "mediation/apply.html", context, status=status)


@require_http_methods(["GET"])
def apply_done(request):
    number = request.session.get(APPLIED_ORDER)
    if not number:
        return redirect("apply")
    return render(request, "mediation/apply_done.html", {"number": number})


def tracked_phone(request) -> str | None:
    """The number this browser proved with a code, while the proof lasts."""
    phone = request.session.get(TRACK_PHONE)
    if not phone or request.session.get(TRACK_UNTIL, 0) < time.time():
        return None
    return phone


@require_http_methods(["GET", "POST"])
def track(request):
    form = TrackForm(request.POST or None)
    context = {"form": form, "code_sent_to": "", "resend_after": 0}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "stop":
            request.session.pop(TRACK_PHONE, None)
            request.session.pop(TRACK_UNTIL, None)
            return redirect("apply_track")
        refused = _throttled(request, "track", "mediation/track.html", context)
        if refused:
            return refused
        if form.is_valid():
            if action == "send_code":
                _send_code(request, form, services.send_track_code, context)
            else:
                try:
                    phone = services.prove_phone_for_tracking(
                        phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
                    )
                except ValidationError as error:
                    attach_errors(form, error)
                except CodeRefused as error:
                    form.add_error("code", error.message)
                    if error.code == "too_many_tries":
                        status = 429
                else:
                    # A new session key for the proof, so that a planted cookie cannot share it.
                    request.session.cycle_key()
                    request.session[TRACK_PHONE] = phone
                    request.session[TRACK_UNTIL] = time.time() + settings.TRACK_SESSION_SECONDS
                    return redirect("apply_track")
        if form.errors and status == 200:
            status = 400
    else:
        phone = tracked_phone(request)
        if phone:
            context.update(phone=phones.mask(phone), orders=selectors.orders_of_phone(phone))
    return render(request, "mediation/track.html", context, status=status)
