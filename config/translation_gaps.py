"""Messages of the packages we serve whose own zh_Hans catalogue misses them, marked
here so that makemessages carries them into ours (frontend/locale), which Django reads
before the packages' catalogues.

Most are msgids changed upstream while the package's Chinese catalogue kept the old
text: Django 5.2 writes "This password is too short…" with "%d" where its zh_Hans
catalogue has "%(min_length)d", so the sign-up page showed it in English. Nothing
imports this module; tests/test_page_languages.py finds any new gap after an upgrade.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

GAPS = [
    # django.contrib.auth.password_validation.MinimumLengthValidator
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    # django.db.models.ForeignKey.validate (a choice that no longer exists)
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
    # django.contrib.admin's templates (the operator's pages)
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
]
