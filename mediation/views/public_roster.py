"""/mediators/: the public roster (人民法院在线调解规则 art. 5). No sign-in. It shows
only what the court published and never a telephone number or an email address:
the template is given names, titles, organisations, specialties, languages,
biographies and fees, nothing else."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from mediation import causes
from mediation.roster_forms import PublicRosterFilterForm
from mediation.selectors import roster as selectors

PER_PAGE = 20


def _english_label(cause: str) -> str:
    if (get_language() or "").startswith("zh"):
        return ""
    english = causes.CAUSES_OF_ACTION.get(cause)
    return str(english) if english else ""


def _entry(profile) -> dict:
    """What the page may show of one mediator."""
    organisation = profile.organisation
    return {
        "id": profile.pk,
        "anchor": f"mediator-{profile.pk}",
        "name": profile.user.full_name,
        "title": profile.title,
        "organisation": organisation.name,
        "kind": organisation.get_kind_display(),
        "region": profile.region or organisation.region,
        # The official Chinese term, with its English label for other readers.
        "specialties": [
            {"name": specialty.cause_of_action, "english": _english_label(specialty.cause_of_action)}
            for specialty in profile.specialties.all()
        ],
        "languages": profile.languages,
        "biography": profile.biography,
        "fee": profile.fee if organisation.kind == organisation.Kind.COMMERCIAL else "",
    }


@require_GET
def public_roster(request):
    regions = selectors.public_regions()
    form = PublicRosterFilterForm(request.GET, regions=regions)
    cause = region = ""
    if form.is_valid():
        cause, region = form.cleaned_data["cause"], form.cleaned_data["region"]
    profiles = selectors.filter_public_profiles(selectors.public_profiles(), cause=cause, region=region)
    page = Paginator(profiles, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    filter_errors = [form.fields[name].label for name in form.errors]
    if filter_errors:
        # A bad filter shows everyone: keep it out of the page links, and show the
        # filters empty rather than Django's message that repeats the value back.
        query = query.__class__(mutable=True)
        form = PublicRosterFilterForm(regions=regions)
    organisations = [
        {
            "name": organisation.name,
            "kind": organisation.get_kind_display(),
            "region": organisation.region,
            "description": organisation.description,
        }
        for organisation in selectors.public_organisations()
        if not region or organisation.region == region
    ]
    return render(
        request,
        "mediation/roster/public_roster.html",
        {
            "form": form,
            # The filters whose value is not one of the roster's, by their label.
            "filter_errors": filter_errors,
            "page": page,
            "mediators": [_entry(profile) for profile in page.object_list],
            "organisations": organisations,
            "filtered": bool(cause or region),
            "query_string": query.urlencode(),
        },
    )
