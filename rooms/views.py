from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mediation.errors import DomainError
from mediation.models import MediationCase, RoomKind, User
from mediation.models.cases import Side
from rooms import events, services
from rooms.media.page import media_config
from rooms.membership import member_of, room_members, rooms_for_user
from rooms.models import Room, RoomMute

ROOM_TAB_ORDER = [RoomKind.JOINT, RoomKind.CAUCUS_PLAINTIFF, RoomKind.CAUCUS_DEFENDANT]


def _room_for(user, room_id) -> Room:
    room = Room.objects.select_related("case", "case__mediator", "case__judge").filter(pk=room_id).first()
    if room is None or member_of(user, room) is None:
        raise Http404
    return room


def _user_id(given: str) -> int:
    """The user a control names, as posted; a value that is no user id is not found."""
    if not (given.isascii() and given.isdigit()):
        raise Http404
    return int(given)


def caucus_notice(room: Room, me) -> str:
    """What the caucus banner tells this reader: who cannot see the room. Empty for
    the joint room, which everyone in the case sees."""
    if room.kind == RoomKind.JOINT:
        return ""
    # Third parties (第三人) are in the joint room only: named where the case has any.
    with_third_parties = room.case.parties.filter(side=Side.THIRD_PARTY).exists()
    if me.role in ("mediator", "judge"):
        if room.kind == RoomKind.CAUCUS_PLAINTIFF:
            if with_third_parties:
                return _("The defendant's side and the third parties cannot see this room.")
            return _("The defendant's side cannot see this room.")
        if with_third_parties:
            return _("The plaintiff's side and the third parties cannot see this room.")
        return _("The plaintiff's side cannot see this room.")
    if with_third_parties:
        return _("Only your side and the mediator see this room: the other side and the third parties cannot see it.")
    return _("Only your side and the mediator see this room: the other side cannot see it.")


@login_required
def room_page(request, room_id):
    room = _room_for(request.user, room_id)
    me = member_of(request.user, room)
    tabs = sorted(rooms_for_user(request.user).filter(case=room.case), key=lambda r: ROOM_TAB_ORDER.index(r.kind))
    is_mediator = me.role == "mediator"
    muted = set(RoomMute.objects.filter(room=room, lifted_at__isnull=True).values_list("user_id", flat=True))
    members = room_members(room)
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "case": room.case,
            "tabs": tabs,
            "me": me,
            "members": members,
            "muted": muted,
            "is_mediator": is_mediator,
            "is_caucus": room.kind != RoomKind.JOINT,
            "settled": room.case.status == MediationCase.Status.SETTLED,
            # Reopening a settled case's room: its joint room only, to talk about
            # performance (rooms.services.reopen_for_follow_up).
            "may_reopen_for_performance": room.kind == RoomKind.JOINT
            and services.may_reopen_for_follow_up(request.user, room.case, "performance"),
            "caucus_notice": caucus_notice(room, me),
            "client_config": {
                "roomId": room.pk,
                "socketPath": f"/ws/rooms/{room.pk}/",
                "historyUrl": reverse("api_room_history", args=[room.pk]),
                "myRoomsUrl": reverse("api_my_rooms"),
                "me": me.as_dict(),
                "members": [member.as_dict() for member in members],
                "closed": room.is_closed,
                "eventTexts": events.texts(),
                # The audio/video panel (media.js); none in a closed room.
                "media": None if room.is_closed else media_config(request.user, room, me),
            },
        },
    )


@login_required
@require_POST
def room_control(request, room_id, action):
    room = get_object_or_404(Room.objects.select_related("case"), pk=room_id)
    if room.case.mediator_id != request.user.pk:
        raise Http404
    try:
        if action == "close":
            services.close_room(room=room, actor=request.user)
            messages.success(request, _("The room is closed; nobody can post until you reopen it."))
        elif action == "reopen" and room.case.status == MediationCase.Status.SETTLED:
            # After the settlement, only to talk about performing the agreed terms.
            services.reopen_for_follow_up(room=room, actor=request.user, reason="performance")
            messages.success(request, _("The room is open again, to talk about performing the agreement."))
        elif action == "reopen":
            services.reopen_room(room=room, actor=request.user)
            messages.success(request, _("The room is open again."))
        elif action in ("mute", "unmute"):
            user = get_object_or_404(User, pk=_user_id(request.POST.get("user", "")))
            if action == "mute":
                services.mute_participant(room=room, actor=request.user, user=user)
                messages.success(request, _("%(name)s is muted in this room.") % {"name": user})
            else:
                services.unmute_participant(room=room, actor=request.user, user=user)
                messages.success(request, _("%(name)s may post again.") % {"name": user})
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("room", room_id=room.pk)
