from django.core.management.base import BaseCommand

from documents.services.recordings import process_recording, process_waiting_recordings
from rooms.media.recording import stop_stale_recordings


class Command(BaseCommand):
    help = (
        "Stop the recordings of rooms that closed, cases that ended or media that moved, then process every "
        "stopped or failed recording into a case document. Idempotent; run it from any one scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument("--recording", type=int, help="Process this recording only.")

    def handle(self, *args, recording=None, **options):
        if recording is not None:
            results = [result for result in [process_recording(recording)] if result is not None]
        else:
            stopped = stop_stale_recordings()
            self.stdout.write(f"recordings stopped: {len(stopped)}")
            results = process_waiting_recordings()
        for result in results:
            line = f"recording {result.pk}: {result.status}"
            if result.failure:
                line += f" ({result.failure}: {result.failure_detail[-300:]})"
            self.stdout.write(line)
        self.stdout.write(f"recordings processed: {sum(1 for r in results if r.status == 'stored')}")
        if any(result.failure for result in results):
            self.stderr.write("some recordings failed; their files are kept, run this again to retry")
