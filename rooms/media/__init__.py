"""Audio and video in the rooms, on the court's own Janus servers (docs/media.md).

- `janus`: the platform's own requests to a Janus server (create a room, kick, mute,
  record), short and bounded by JANUS_TIMEOUT_SECONDS.
- `servers`: which server a room's media lives on, chosen and recorded (MediaRoom).
- `credentials`: the short-lived credential the platform issues per person and room.
- `rules`: may this person join this room's media now (one rule, asked by the
  credential view and the media socket).
- `config`: Janus's and coturn's files, generated from the settings.
"""
