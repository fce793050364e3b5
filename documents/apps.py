from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from django.conf import settings
        from PIL import Image

        # Set explicitly, not left to Pillow's default (which only warns below twice
        # its 89 megapixels): uploads check the same number first, with a clear error.
        Image.MAX_IMAGE_PIXELS = settings.DOCUMENT_MAX_IMAGE_PIXELS
        from documents import receivers  # noqa: F401
        from mediation.notifications import register_kind

        register_kind("document.served", _("Documents were served on you in mediation case %(number)s: open them."))
        register_kind("document.refused", _("%(name)s refused the documents served in case %(number)s."))
        # Sent at locking before signatures were taken in turn; kept so that old
        # notifications still read.
        register_kind("agreement.ready", _("The settlement agreement of case %(number)s is ready for your signature."))
        register_kind(
            "agreement.locked",
            _(
                "The settlement agreement of case %(number)s is final: read it. The mediator signs first; you will "
                "be told when it is your turn to sign."
            ),
        )
        register_kind(
            "agreement.your_turn",
            _("It is your turn to sign the settlement agreement of case %(number)s: open it to sign."),
        )
        register_kind("agreement.declined", _("%(name)s declined the settlement agreement of case %(number)s."))
        register_kind("agreement.sealed", _("The settlement agreement of case %(number)s is signed and sealed."))
        register_kind(
            "power_of_attorney.submitted",
            _("An agent in case %(number)s uploaded a power of attorney: check it and record its scope."),
        )
        register_kind(
            "power_of_attorney.accepted",
            _(
                "The mediator checked your power of attorney in case %(number)s: you may settle and sign the "
                "agreement for your party."
            ),
        )
        register_kind(
            "power_of_attorney.accepted_without_authority",
            _(
                "The mediator checked your power of attorney in case %(number)s: it does not give you authority "
                "to settle and sign the agreement."
            ),
        )
        register_kind(
            "power_of_attorney.rejected",
            _("The mediator rejected your power of attorney in case %(number)s: read why and upload a new one."),
        )
