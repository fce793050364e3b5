"""Messages of the packages we serve whose own zh_Hans catalogue misses them, marked
here so that makemessages carries them into ours (frontend/locale), which Django reads
before the packages' catalogues.

Some are msgids changed upstream while the package's Chinese catalogue kept the old
text: Django 5.2 writes "This password is too short…" with "%d" where its zh_Hans
catalogue has "%(min_length)d", so the sign-up page showed it in English. The others
are allauth's words for email ("Email地址") that court Chinese does not use. Nothing
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
    # allauth's account pages: its zh_Hans catalogue writes "Email地址"; court Chinese
    # says 电子邮箱.
    gettext_noop("Username or email"),
    gettext_noop("You cannot activate two-factor authentication until you have verified your email address."),
    gettext_noop(
        "An account already exists with this email address. Please sign in to that account first, "
        "then connect your %s account."
    ),
    gettext_noop("Your account has no verified email address."),
    gettext_noop("Email Addresses"),
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Primary"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Add Email Address"),
    gettext_noop("Add Email"),
    gettext_noop("Do you really want to remove the selected email address?"),
    gettext_noop("Email Changed"),
    gettext_noop("Your email has been confirmed."),
    gettext_noop("Email Confirmation"),
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Email address %(deleted_email)s has been removed from your account."),
    gettext_noop("Email Removed"),
    gettext_noop("Email Address"),
    gettext_noop("Current email"),
    gettext_noop("Change Email"),
    gettext_noop("Confirm Email Address"),
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("Removed email address %(email)s."),
    gettext_noop("Primary email address set."),
    gettext_noop("Verify Your Email Address"),
]
