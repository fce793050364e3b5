# The media-ui branch merges media-core's and recording's migrations, made side by
# side on 0003_media_rooms. The lead's renumbering into one chain makes this
# unnecessary: drop it then.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0904_media_moderation"),
        ("rooms", "0905_recordings"),
    ]

    operations = []
