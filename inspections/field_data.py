"""Nothing of the field cards stays on a phone for the next person.

The household cards are kept on the inspector's phone for offline work (the service worker's cache,
and results waiting in IndexedDB: static/inspections/). Logging out clears them: the logout
response carries ``Clear-Site-Data: "cache", "storage"``, which makes the browser drop this site's
Cache Storage, IndexedDB, local storage and service worker. When another user logs in on the same
phone without the previous one having logged out (a session that expired, a shared phone), the
login response clears them too: a signed cookie remembers whose data the phone may hold. The
cards page also checks the owner itself (checks.js), and warns before logging out with results
not yet sent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out

COOKIE = "jinpin_field_user"
SALT = "inspections.field_data"
CLEAR = '"cache", "storage"'


def _logged_out(sender, request=None, user=None, **kwargs):
    if request is not None:
        request._jinpin_clear_field_data = True


def _logged_in(sender, request=None, user=None, **kwargs):
    if request is None or user is None:
        return
    previous = request.get_signed_cookie(COOKIE, default=None, salt=SALT)
    if previous is not None and previous != str(user.pk):
        request._jinpin_clear_field_data = True
    request._jinpin_field_owner = str(user.pk)


def connect():
    user_logged_out.connect(_logged_out, dispatch_uid="inspections.field_data.out")
    user_logged_in.connect(_logged_in, dispatch_uid="inspections.field_data.in")


class ClearFieldDataMiddleware:
    """Adds the ``Clear-Site-Data`` header decided by the signals above, and the owner cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_jinpin_clear_field_data", False):
            response["Clear-Site-Data"] = CLEAR
        owner = getattr(request, "_jinpin_field_owner", None)
        if owner is not None:
            response.set_signed_cookie(
                COOKIE,
                owner,
                salt=SALT,
                max_age=400 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
