from django.conf import settings
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from mediation.services.accounts import set_preferred_language


@require_POST
def set_language(request):
    """Switch the interface language, and remember it on the account so that every
    device the user signs in on follows."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        set_preferred_language(user=request.user, language=language)
    return response
