"""Large type (大字模式): bigger text and buttons and plain wording, switched on by the
person on any page and kept across pages (on the account when signed in, in the
session otherwise). `frontend.context_processors.large_type` reads it back."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mediation.services.accounts import set_large_type

SESSION_KEY = "large_type"


def large_type_on(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.large_type
    return bool(request.session.get(SESSION_KEY, False)) if hasattr(request, "session") else False


@require_POST
def large_type(request):
    """Switch large type to the state asked for ("on"="1" or "0"); without one, flip
    it. Back to the page the switch was on."""
    wanted = request.POST.get("on")
    on = not large_type_on(request) if wanted not in ("0", "1") else wanted == "1"
    if request.user.is_authenticated:
        set_large_type(user=request.user, on=on)
    else:
        request.session[SESSION_KEY] = on
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    return redirect(next_url)
