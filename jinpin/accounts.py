"""The login form (the login, logout and password pages are Django's own views)."""

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
