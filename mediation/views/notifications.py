from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mediation.notifications import render as render_notification
from mediation.notifications import unread_count
from mediation.selectors.work_orders import notifications_for
from mediation.services.notifications import mark_all_read, mark_read

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
