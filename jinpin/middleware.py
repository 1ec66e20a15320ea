"""Responses that may carry personal data are never stored by a browser or a proxy."""

from django.utils.cache import add_never_cache_headers, patch_cache_control

from . import privacy


class PrivateResponseMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user (pages, downloads, JSON)
    and on every file download; static files are served before this (WhiteNoise) and keep their
    long cache. Also writes the audit entries of the full values the request revealed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or getattr(response, "streaming", False):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        if request.__dict__.get("_jinpin_reveals"):
            privacy.flush(request)
        return response
