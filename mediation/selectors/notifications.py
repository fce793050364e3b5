"""Reads for the notification pages."""

from __future__ import annotations

from dataclasses import dataclass

from mediation.models import NotificationPreference, User
from mediation.notifications import EMAIL, SMS, Topic, chosen_channels, topic_has_sms, topics_for


@dataclass(frozen=True)
class ChannelChoice:
    topic: Topic
    sms_available: bool
    sms: bool
    email: bool


def channel_choices(user: User) -> list[ChannelChoice]:
    """The person's channel choice for each topic they may choose for, with the
    defaults where they saved none."""
    saved = {preference.topic: preference for preference in NotificationPreference.objects.filter(user=user)}
    rows = []
    for topic in topics_for(user):
        wanted = chosen_channels(user, topic.code, saved.get(topic.code))
        sms_available = topic_has_sms(topic.code)
        rows.append(ChannelChoice(topic, sms_available, sms_available and wanted[SMS], wanted[EMAIL]))
    return rows
