"""What rooms tell the apps above them (documents), which rooms do not import."""

from django.dispatch import Signal

# A recording stopped and its files wait to be processed (sent after the commit);
# argument: recording_id.
recording_stopped = Signal()
