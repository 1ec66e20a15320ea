"""The login form (the login, logout and password pages are Django's own views) and the authentication backend."""

from django.contrib.auth import backends as auth_backends
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class LoginForm(AuthenticationForm):
    """Django's login form, refusing a username no account can have before anything looks it up:
    Django sets the field's max_length without its validator, and django-axes would then write the
    10,000-character (or NUL-carrying) name of a failed attempt into a 255-character column."""

    def clean_username(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > (self.fields["username"].max_length or 150) or "\x00" in username:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        return username


class ModelBackend(auth_backends.ModelBackend):
    """Django's ModelBackend, whose ``get_user`` (every request's user, from the session) reads the user's
    membership in the same query: ``jinpin.scope.get_scope`` reads it on every page."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("membership").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
