"""Migrate the database named by DATABASE_URL and create a case in it, for a fault test
whose daphne processes run on a database of their own (one the test may stop, which
the test process itself cannot use: pytest-django holds it to the test database).

Run as `python -m tests.faults.seed_database PARTICIPANTS` with DATABASE_URL and
DJANGO_SETTINGS_MODULE set; prints JSON: the joint room's id and, for each person in
it, their id, name, language and a signed-in session cookie. The judge reads the
platform in Chinese, the others in its default language.
"""

from __future__ import annotations

import json
import sys


def main(participants: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.cases import make_civil_case
    from tests.faults.support import add_participants
    from tests.servers import session_cookie

    call_command("migrate", interactive=False, verbosity=0)
    world = make_civil_case()
    judge = world.judge
    judge.language = "zh-hans"
    judge.save(update_fields=["language"])
    users = [world.mediator, judge, world.plaintiff, world.defendant, *add_participants(world, participants)]
    people = [
        {"id": user.pk, "name": user.full_name, "language": user.language, "cookie": session_cookie(user)}
        for user in users
    ]
    connection.close()
    return {"room": world.joint.pk, "people": people}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)))
