from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mediation.notifications import EMAIL, SMS, has_email_address, has_verified_phone, topics_for, unread_count
from mediation.notifications import render as render_notification
from mediation.phones import mask
from mediation.selectors.notifications import channel_choices
from mediation.selectors.work_orders import notifications_for
from mediation.services.notifications import mark_all_read, mark_read, set_notification_channels

PAGE_SIZE = 30


@login_required
def notification_list(request):
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for notification in page:
        notification.text = render_notification(notification.kind, notification.params)
    return render(request, "mediation/notifications.html", {"page": page})


@login_required
@require_POST
def open_notification(request, notification_id):
    notification = mark_read(user=request.user, notification_id=notification_id)
    target = notification.url if notification else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications")


@login_required
@require_POST
def read_all_notifications(request):
    mark_all_read(user=request.user)
    return redirect("notifications")


@login_required
def notification_count(request):
    return JsonResponse({"unread": unread_count(request.user)})


@login_required
def follow_notification_link(request, notification_id):
    """The short link an SMS carries (`/n/<id>/`): for its recipient it opens the
    notice's page and marks it read; for anyone else there is no such notice."""
    notification = mark_read(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    """One's own channels per kind of notice. Only ever the signed-in person's: the
    page takes no user id."""
    if request.method == "POST":
        choices = {
            topic.code: {
                SMS: request.POST.get(f"{topic.code}-sms") == "on",
                EMAIL: request.POST.get(f"{topic.code}-email") == "on",
            }
            for topic in topics_for(request.user)
        }
        try:
            set_notification_channels(user=request.user, choices=choices)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your choices are saved."))
        return redirect("notification_preferences")
    return render(
        request,
        "mediation/notification_preferences.html",
        {
            "choices": channel_choices(request.user),
            "has_verified_phone": has_verified_phone(request.user),
            "has_email_address": has_email_address(request.user),
            "masked_phone": mask(request.user.phone) if request.user.phone else "",
        },
    )
