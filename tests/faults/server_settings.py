"""Settings of the daphne processes that the fault tests start: the test settings (the
sessions and users the tests create are valid there), with the database handled as in
production (config/settings/base.py): connections kept between requests and checked
before use, and commits durable. The test suite's own settings open a connection per
call and commit asynchronously, which a reconnection storm or a PostgreSQL crash
would measure instead of the platform."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].get("OPTIONS", {}).pop("options", None)
