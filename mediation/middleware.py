from urllib.parse import unquote

from django.core.exceptions import BadRequest
from django.utils import translation
from django.views.defaults import bad_request


class UserLanguageMiddleware:
    """Use the signed-in user's remembered language, whatever the browser says.
    Runs after AuthenticationMiddleware and LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class RefuseNullCharactersMiddleware:
    """Answer 400 to a request whose path or query string holds a NUL character.

    PostgreSQL refuses NUL in text, so such a value reaching a query (a verification
    code, a case number, a filter) failed with a server error, and the file system
    refuses it in a path. No address of the platform has one; refusing it here, before
    any middleware or view reads the path or the query, is one rule instead of a check
    in every view. Form and API bodies are guarded field by field: Django's and DRF's
    CharField refuse NUL with a validation error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return bad_request(request, BadRequest("NUL character in the address"))
        return self.get_response(request)
