"""The site's URLs plus one view that fails, to see the 500 page (test_privacy.py)."""

from django.urls import path

from jinpin.urls import handler500
from jinpin.urls import urlpatterns as site


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [*site, path("boom/", boom)]

__all__ = ["handler500", "urlpatterns"]
