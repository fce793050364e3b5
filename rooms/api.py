from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.membership import member_of
from rooms.models import Room
from rooms.protocol import entry_frame
from rooms.selectors import history_before, my_rooms

MAX_HISTORY_PAGE = 200


class MyRoomsView(APIView):
    """The rooms the signed-in user may enter, with unread counts."""

    @extend_schema(
        responses=inline_serializer(
            "MyRoom",
            {
                "id": serializers.IntegerField(),
                "kind": serializers.ChoiceField(["joint", "caucus_plaintiff", "caucus_defendant"]),
                "case": inline_serializer(
                    "RoomCase", {"id": serializers.IntegerField(), "number": serializers.CharField()}
                ),
                "closed": serializers.BooleanField(),
                "unread": serializers.IntegerField(),
                "last_seq": serializers.IntegerField(),
            },
            many=True,
        )
    )
    def get(self, request):
        return Response(my_rooms(request.user))


class RoomHistoryView(APIView):
    """A page of a room's history, oldest first: what the room page loads when the
    reader scrolls up."""

    @extend_schema(
        parameters=[
            OpenApiParameter("before", int, description="Entries with a smaller seq; the newest if omitted"),
            OpenApiParameter("limit", int, description=f"At most {MAX_HISTORY_PAGE}; 50 by default"),
        ],
        responses=inline_serializer("RoomHistory", {"entries": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request, room_id):
        room = Room.objects.select_related("case").filter(pk=room_id).first()
        if room is None or member_of(request.user, room) is None:
            raise Http404
        try:
            before = int(request.query_params["before"]) if "before" in request.query_params else None
            limit = min(max(int(request.query_params.get("limit", 50)), 1), MAX_HISTORY_PAGE)
        except ValueError as error:
            raise serializers.ValidationError({"before": "Give whole numbers."}) from error
        return Response({"entries": [entry_frame(entry) for entry in history_before(room, before, limit)]})
