"""System checks for a production configuration (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_is_not_the_development_key(app_configs, **kwargs):
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        return [Error("SECRET_KEY is the development key; set SECRET_KEY in the environment.", id="jinpin.E001")]
    return []


@register(Tags.security, deploy=True)
def csp_is_sent(app_configs, **kwargs):
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE:
        return [Error("The Content Security Policy middleware is not installed.", id="jinpin.E002")]
    return []
