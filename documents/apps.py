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

        # The court documents' kinds register what happens when one is sealed; acts
        # done in person register their notices.
        from documents.services import (
            confirmation,  # noqa: F401
            in_person,  # noqa: F401
            mediation_records,  # noqa: F401
        )
        from mediation.notifications import register_kind, register_topic
        from mediation.sms import templates as sms_templates

        register_topic("documents", _("Documents served"), _("Documents served on you, or refused by a party."))
        register_topic(
            "agreements",
            _("Settlement agreements"),
            _("An agreement to read, your turn to sign, the sealed agreement."),
        )
        register_kind(
            "document.served",
            _("Documents were served on you in mediation case %(number)s: open them."),
            topic="documents",
            sms_template="notice_document_served",
        )
        register_kind(
            "document.refused", _("%(name)s refused the documents served in case %(number)s."), topic="documents"
        )
        # Sent at locking before signatures were taken in turn; kept so that old
        # notifications still read.
        register_kind(
            "agreement.ready",
            _("The settlement agreement of case %(number)s is ready for your signature."),
            topic="agreements",
            sms_template="notice_agreement_ready",
        )
        register_kind(
            "agreement.locked",
            _(
                "The settlement agreement of case %(number)s is final: read it. The mediator signs first; you will "
                "be told when it is your turn to sign."
            ),
            topic="agreements",
        )
        register_kind(
            "agreement.your_turn",
            _("It is your turn to sign the settlement agreement of case %(number)s: open it to sign."),
            topic="agreements",
            sms_template="notice_agreement_ready",
        )
        register_kind(
            "agreement.declined",
            _("%(name)s declined the settlement agreement of case %(number)s."),
            topic="agreements",
        )
        register_kind(
            "agreement.sealed",
            _("The settlement agreement of case %(number)s is signed and sealed."),
            topic="agreements",
            sms_template="notice_agreement_sealed",
        )
        # Performance of the agreed terms (documents.services.performance).
        register_topic(
            "performance",
            _("Performance of the agreement"),
            _("What you agreed to pay or do falls due, a report to confirm, a confirmation, a dispute, urging."),
        )
        sms_templates.register(
            "notice_obligation_due",
            _("%(court)s: case %(number)s: what you agreed is due on %(due)s. Report it once done: %(link)s"),
        )
        sms_templates.register(
            "notice_obligation_reported",
            _("%(court)s: case %(number)s: the other side reports a term performed. Confirm it: %(link)s"),
        )
        sms_templates.register(
            "notice_obligation_urged",
            _("%(court)s: case %(number)s: the mediator urges you to perform what you agreed. %(link)s"),
        )
        register_kind(
            "obligation.due_soon",
            _("Case %(number)s: term %(term)s of the agreement is due on %(due)s. Report it performed once done."),
            topic="performance",
            sms_template="notice_obligation_due",
        )
        register_kind(
            "obligation.due_today",
            _("Case %(number)s: term %(term)s of the agreement is due today (%(due)s). Report it performed once done."),
            topic="performance",
            sms_template="notice_obligation_due",
        )
        register_kind(
            "obligation.reported",
            _(
                "Case %(number)s: the other side reports term %(term)s of the agreement performed: confirm or "
                "dispute it."
            ),
            topic="performance",
            sms_template="notice_obligation_reported",
        )
        register_kind(
            "obligation.confirmed",
            _("Case %(number)s: term %(term)s of the agreement is confirmed performed."),
            topic="performance",
        )
        register_kind(
            "obligation.disputed",
            _("Case %(number)s: the report that term %(term)s of the agreement is performed is disputed: read why."),
            topic="performance",
        )
        register_kind(
            "obligation.urged",
            _("Case %(number)s: the mediator urges you to perform term %(term)s of the agreement."),
            topic="performance",
            sms_template="notice_obligation_urged",
        )
        register_kind(
            "obligation.overdue",
            _(
                "Case %(number)s: term %(term)s of the agreement, due on %(due)s, is overdue: urge performance and "
                "record what you did."
            ),
            topic="performance",
        )
        register_kind(
            "obligation.overdue_judge",
            _("Case %(number)s: term %(term)s of the agreement, due on %(due)s, has been overdue for %(days)s days."),
            topic="performance",
        )
        register_topic(
            "judicial_confirmation",
            _("Judicial confirmation"),
            _("The application to sign, the time left to apply, the court's steps and its ruling."),
        )
        sms_templates.register(
            "notice_confirmation_sign",
            _("%(court)s: sign the application for judicial confirmation of case %(number)s: %(link)s"),
        )
        sms_templates.register(
            "notice_confirmation_apply_reminder",
            _(
                "%(court)s: %(days)s days left to apply for judicial confirmation of the agreement of case "
                "%(number)s. %(link)s"
            ),
        )
        sms_templates.register(
            "notice_confirmation_applied",
            _("%(court)s: an application for judicial confirmation in case %(number)s awaits acceptance. %(link)s"),
        )
        register_kind(
            "confirmation.sign_application",
            _(
                "Sign the application for judicial confirmation of the settlement agreement of case %(number)s, "
                "by %(due)s."
            ),
            topic="judicial_confirmation",
            sms_template="notice_confirmation_sign",
        )
        register_kind(
            "confirmation.apply_reminder",
            _(
                "The time to apply for judicial confirmation of the settlement agreement of case %(number)s ends "
                "on %(due)s: every party signs the application before then."
            ),
            topic="judicial_confirmation",
            sms_template="notice_confirmation_apply_reminder",
        )
        register_kind(
            "confirmation.applied",
            _("Every party of case %(number)s signed the application for judicial confirmation: accept it or not."),
            topic="judicial_confirmation",
            sms_template="notice_confirmation_applied",
        )
        register_kind(
            "confirmation.application_made",
            _("The application for judicial confirmation of case %(number)s is signed and with the court."),
            topic="judicial_confirmation",
        )
        register_kind(
            "confirmation.withdrawn",
            _("%(name)s withdrew the application for judicial confirmation of case %(number)s."),
            topic="judicial_confirmation",
        )
        register_kind(
            "confirmation.lapsed",
            _(
                "The application for judicial confirmation of case %(number)s lapsed: not every party signed it "
                "within the 30 days."
            ),
            topic="judicial_confirmation",
        )
        register_kind(
            "power_of_attorney.submitted",
            _("An agent in case %(number)s uploaded a power of attorney: check it and record its scope."),
            topic="agreements",
        )
        register_kind(
            "power_of_attorney.accepted",
            _(
                "The mediator checked your power of attorney in case %(number)s: you may settle and sign the "
                "agreement for your party."
            ),
            topic="agreements",
        )
        register_kind(
            "power_of_attorney.accepted_without_authority",
            _(
                "The mediator checked your power of attorney in case %(number)s: it does not give you authority "
                "to settle and sign the agreement."
            ),
            topic="agreements",
        )
        register_kind(
            "power_of_attorney.rejected",
            _("The mediator rejected your power of attorney in case %(number)s: read why and upload a new one."),
            topic="agreements",
        )
        sms_templates.register(
            "notice_confirmation_ruling",
            _(
                "%(court)s: the court's ruling on the application for judicial confirmation of case %(number)s has "
                "arrived. %(link)s"
            ),
        )
        sms_templates.register(
            "notice_confirmation_overdue",
            _("%(court)s: the application for judicial confirmation in case %(number)s is past its deadline. %(link)s"),
        )
        register_kind(
            "confirmation.assigned",
            _("The application for judicial confirmation in case %(number)s was assigned to you."),
            topic="cases",
        )
        register_kind(
            "confirmation.accepted",
            _("The court accepted the application for judicial confirmation in case %(number)s as %(case_number)s."),
            topic="judicial_confirmation",
        )
        register_kind(
            "confirmation.not_accepted",
            _("The court did not accept the application for judicial confirmation in case %(number)s: read why."),
            topic="judicial_confirmation",
        )
        register_kind(
            "confirmation.ruling_arrived",
            _("The court's ruling on your application for judicial confirmation in case %(number)s has arrived."),
            topic="judicial_confirmation",
            sms_template="notice_confirmation_ruling",
        )
        register_kind(
            "confirmation.serve_by_other_means",
            _(
                "The ruling in case %(number)s could not be served electronically on %(count)s participant(s) who "
                "did not consent to it: serve them by other means."
            ),
            topic="cases",
        )
        register_kind(
            "confirmation.accept_overdue",
            _("The application for judicial confirmation in case %(number)s was not accepted in time."),
            topic="deadlines",
            sms_template="notice_confirmation_overdue",
        )
        register_kind(
            "confirmation.decide_overdue",
            _("The application for judicial confirmation %(case_number)s (case %(number)s) was not decided in time."),
            topic="deadlines",
            sms_template="notice_confirmation_overdue",
        )
        # The ruling's sealing decides the application; the sign page shows what it says.
        from documents.services.confirmation_court import ruling_reading, ruling_sealed, ruling_signing_refusal
        from documents.services.court_documents import on_sealed, register_reading, signing_refusal

        on_sealed("ruling")(ruling_sealed)
        signing_refusal("ruling")(ruling_signing_refusal)
        register_reading("ruling", "documents/_ruling_reading.html", ruling_reading)
