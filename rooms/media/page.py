"""What the room page's audio/video panel (frontend/static/js/media.js) is given: the
media endpoints of this room, the recording state on load, and its texts in the
reader's language (the script holds no text of its own).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from rooms.media import rules
from rooms.media import views as media_views
from rooms.membership import Member
from rooms.models import Room


def media_config(user, room: Room, me: Member) -> dict:
    """The `media` object of the room page's client_config."""
    endpoints = media_views.endpoints(room.pk)
    # The mediator's controls (the endpoints refuse anyone else all the same).
    may_moderate = me.role == "mediator"
    return {
        "credentialUrl": endpoints["credential"],
        "peopleUrl": endpoints["people"],
        **{
            f"{action}Url": endpoints[action] if may_moderate else None
            for action in ("mute", "unmute", "remove", "readmit")
        },
        "recording": {
            **rules.recording_state(user, room),
            "consentUrl": reverse("media_recording", args=[room.pk, "consent"]),
            # Started and stopped by the room's mediator only.
            **{
                f"{action}Url": reverse("media_recording", args=[room.pk, action]) if may_moderate else None
                for action in ("start", "stop")
            },
        },
        "mayModerate": may_moderate,
        "texts": texts(),
    }


def texts() -> dict:
    return {
        "connecting": _("Connecting to the video…"),
        "inVideo": _("You are in the video."),
        "inAudio": _("You are in the call, audio only."),
        "left": _("You left the video. The text conversation goes on."),
        "unavailable": _("Video is unavailable at the moment. The text conversation goes on."),
        "failed": _("The video could not start. The text conversation goes on."),
        "lost": _("The video connection was lost. The text conversation goes on; you can join again."),
        "removed": _("You can no longer take part in this room's video."),
        "closed": _("The mediator closed this room; the video has ended."),
        "noDevices": _(
            "Your camera and microphone could not be used. Check that the browser may use them; "
            "you still see and hear the others."
        ),
        "noCamera": _("Your camera could not be used: you take part with your microphone."),
        "you": _("You"),
        "screenOf": _("%(name)s's screen"),
        "micOff": _("Microphone off"),
        "cameraOff": _("Camera off"),
        "inVideoIcon": _("In the video"),
        "sharingScreen": _("Sharing their screen"),
        "mutedByMediator": _("Microphone muted by the mediator"),
        "mute": _("Mute microphone"),
        "unmute": _("Unmute microphone"),
        "cameraOffButton": _("Turn camera off"),
        "cameraOnButton": _("Turn camera on"),
        "audioOnly": _("Audio only (weak network)"),
        "audioOnlyOff": _("Show video again"),
        "shareScreen": _("Share screen"),
        "stopSharing": _("Stop sharing"),
        "leave": _("Leave the video"),
        "muteOf": _("Mute %(name)s's microphone"),
        "unmuteOf": _("Allow %(name)s's microphone"),
        "removeOf": _("Remove %(name)s from the video"),
        "readmitOf": _("Let %(name)s join the video again"),
        "confirmRemove": _("Remove %(name)s from the video? Their video and sound stop at once."),
        "youWereMuted": _("The mediator muted your microphone."),
        "recording": _("Recording: this room's audio and video are being recorded."),
        "consentPrompt": _(
            "This room is being recorded. The recording is kept with the case. Agree to the recording to join."
        ),
        "consent": _("I agree to the recording"),
        "consentBefore": _("The mediator may record this room. Do you agree to this room being recorded?"),
        "consented": _("You agreed to the recording."),
        "startRecording": _("Start recording"),
        "stopRecording": _("Stop recording"),
        "actionFailed": _("That did not work. Try again."),
    }
