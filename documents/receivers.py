"""What documents answers when mediation asks (mediation.signals)."""

from django.dispatch import receiver
from django.utils.translation import gettext as _

from documents.models import Agreement
from mediation import signals
from rooms.signals import recording_stopped


@receiver(signals.parties_frozen)
def agreement_is_the_record_of_the_parties(sender, case, **kwargs):
    """Once the agreement is locked for signing (or signed), it names the parties as
    the signers read them: they can no longer be corrected or removed. Editing a locked
    agreement takes it back to a draft, and then they can."""
    agreements = case.agreements.all()
    if agreements.filter(status=Agreement.Status.SEALED).exists():
        return _("The settlement agreement of this case is signed and sealed: it is the record of the parties.")
    if agreements.filter(status__in=Agreement.WAITING_FOR_SIGNATURES).exists():
        return _(
            "The settlement agreement is locked for signing and names the parties as they are: to correct a party, "
            "first edit the agreement (which takes it back from signing)."
        )
    return None


@receiver(signals.order_performance)
def performance_of_the_orders_cases(sender, order, **kwargs):
    from documents.performance_summary import order_performance

    return order_performance(order)


@receiver(signals.after_seal_figures)
def figures_after_the_seal(sender, year_from, year_to, department_id, **kwargs):
    from documents.selectors_figures import after_seal_figures

    return after_seal_figures(year_from=year_from, year_to=year_to, department_id=department_id)


@receiver(signals.case_delegated)
def seal_the_letter_of_delegation(sender, case, delegation, actor, **kwargs):
    """The court's sealed letter of delegation, made with the delegation (in its
    transaction: no delegation without its letter)."""
    from documents.services.delegation_letter import make_delegation_letter

    make_delegation_letter(case=case, delegation=delegation, actor=actor)


@receiver(signals.case_status_changed)
def filing_package_when_mediation_fails(sender, case, from_status, **kwargs):
    """A failed mediation's filing package for the case-filing division, sealed in the
    transaction that records the failure (documents.services.filing_package); answered
    so that the originating work order's timeline names it."""
    from mediation.models import MediationCase

    if case.status != MediationCase.Status.FAILED:
        return None
    from documents.services.filing_package import on_case_failed

    return on_case_failed(case)


@receiver(recording_stopped)
def process_stopped_recording(sender, recording_id, **kwargs):
    """A stopped recording's files become a case document, in a thread (sent after the
    stop's commit); `manage.py process_recordings` picks up whatever this did not."""
    from documents.services.recordings import process_in_background

    process_in_background(recording_id)
