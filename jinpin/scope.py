"""Access scoping: the one place that decides what a person may see and change.

A person's role and scope live on a membership row (``schools.Membership``),
which an administrator edits. ``get_scope(user)`` turns it into a ``Scope``;
``request.scope`` carries it through every view. Each app *registers* how its
models are scoped (``register(Model, rows=..., write=...)``), so this module
never imports a domain app, and every view, form, filter, export and task asks
the same registry:

* ``scope.filter(Model or queryset)`` -- the rows this person may read;
* ``scope.get_or_404(Model, write=False, **lookup)`` -- an object lookup: out of
  scope is 404 (never its data), in scope but not writable is 403;
* ``ScopedFormMixin`` -- every model choice in a form offers only in-scope rows,
  so a forged POST with an out-of-scope id fails validation.

An unregistered model is fail-closed: ``filter`` raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django import forms
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from . import autocomplete


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("City administrator")
    COUNTY_OFFICER = "county_officer", _("County education officer")
    PRINCIPAL = "principal", _("School principal")
    INSPECTOR = "inspector", _("Inspector")
    AUDITOR = "auditor", _("Auditor")


CITY_WIDE_ROLES = frozenset({Role.CITY_ADMIN, Role.AUDITOR})
READ_ONLY_ROLES = frozenset({Role.AUDITOR})


@dataclass(frozen=True)
class Scope:
    """What one person may see and do. Plain data: safe to rebuild in a task."""

    user_id: int | None = None
    role: str | None = None
    county_id: int | None = None
    school_id: int | None = None
    inspector_county_ids: frozenset = field(default_factory=frozenset)

    @property
    def is_city_admin(self) -> bool:
        return self.role == Role.CITY_ADMIN

    @property
    def is_county_officer(self) -> bool:
        return self.role == Role.COUNTY_OFFICER

    @property
    def is_principal(self) -> bool:
        return self.role == Role.PRINCIPAL

    @property
    def is_inspector(self) -> bool:
        return self.role == Role.INSPECTOR

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR

    @property
    def city_wide(self) -> bool:
        """Reads the whole city (city administrator, auditor)."""
        return self.role in CITY_WIDE_ROLES

    @property
    def read_only(self) -> bool:
        return self.role in READ_ONLY_ROLES or self.role is None

    # -- the registry -------------------------------------------------------
    def _rule(self, model) -> Rule:
        model = model._meta.concrete_model
        try:
            return _rules[model]
        except KeyError:
            raise ImproperlyConfigured(f"{model.__name__} is not registered with jinpin.scope") from None

    def filter(self, model_or_qs):
        """The rows of a model (or a queryset narrowed further) this person may read."""
        qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs._default_manager.all()
        if self.role is None:
            return qs.none()
        return self._rule(qs.model).rows(self, qs)

    def can_write(self, model, obj=None) -> bool:
        if self.read_only:
            return False
        return bool(self._rule(model).write(self, obj))

    def get_or_404(self, model_or_qs, *, write: bool = False, **lookup):
        """One object in scope: 404 if outside it, 403 if ``write`` and not writable."""
        obj = get_object_or_404(self.filter(model_or_qs), **lookup)
        if write and not self.can_write(type(obj), obj):
            raise PermissionDenied
        return obj

    def require_write(self, model, obj=None) -> None:
        if not self.can_write(model, obj):
            raise PermissionDenied


@dataclass(frozen=True)
class Rule:
    rows: Callable
    write: Callable


_rules: dict = {}


def register(model, *, rows: Callable, write: Callable | frozenset | set | tuple = frozenset()):
    """Declare how ``model`` is scoped.

    ``rows(scope, qs) -> qs`` narrows a queryset; ``write`` is either a set of
    roles that may write, or ``write(scope, obj_or_None) -> bool``.
    """
    if not callable(write):
        roles = frozenset(write)

        def write(scope, obj=None, _roles=roles):
            return scope.role in _roles

    _rules[model] = Rule(rows=rows, write=write)
    return model


def by_county(county_path: str, school_path: str | None = None, *, inspectors: bool = True):
    """A rows rule for records that belong to a county (and maybe a school).

    City-wide roles see all; a county officer sees their county; a principal
    sees their school's rows (``school_path``), or none; inspectors read the
    whole city unless ``inspectors=False``.
    """

    def rows(scope: Scope, qs):
        if scope.city_wide or (scope.is_inspector and inspectors):
            return qs
        if scope.is_county_officer and scope.county_id:
            return qs.filter(**{county_path: scope.county_id})
        if scope.is_principal and scope.school_id and school_path:
            return qs.filter(**{school_path: scope.school_id})
        return qs.none()

    return rows


def everything(scope: Scope, qs):
    return qs


# -- building a scope ---------------------------------------------------------
NO_SCOPE = Scope()


def inspector_county_ids(user_id: int) -> frozenset:
    """督查抽查 scope: an inspector's counties are those assigned to their groups in campaigns that
    are running (status "running", set by the city administrator). Outside a running campaign an
    inspector has none. One query; the model is looked up by name so this module imports no app."""
    from django.apps import apps

    if not apps.is_installed("inspections"):
        return frozenset()
    through = apps.get_model("inspections", "Assignment").counties.through
    return frozenset(
        through.objects.filter(
            assignment__group__members=user_id, assignment__group__campaign__status="running"
        ).values_list("county_id", flat=True)
    )


def by_inspection_county(county_path: str):
    """A rows rule for supervision records (checks, photos, findings, drawn items): city-wide roles
    see all, a county officer their county, an inspector only their assigned counties (above)."""

    def rows(scope: Scope, qs):
        if scope.city_wide:
            return qs
        if scope.is_inspector:
            return qs.filter(**{f"{county_path}__in": scope.inspector_county_ids})
        if scope.is_county_officer and scope.county_id:
            return qs.filter(**{county_path: scope.county_id})
        return qs.none()

    return rows


def get_scope(user) -> Scope:
    """The scope of ``user``; one query (the membership), cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_jinpin_scope", None)
    if cached is not None:
        return cached
    membership = getattr(user, "membership", None) if _has_membership(user) else None
    if membership is not None and membership.is_active:
        scope = Scope(
            user_id=user.pk,
            role=membership.role,
            county_id=membership.county_id,
            school_id=membership.school_id,
            # one more query for inspectors only: their groups' counties while a campaign runs
            inspector_county_ids=inspector_county_ids(user.pk) if membership.role == Role.INSPECTOR else frozenset(),
        )
    elif user.is_superuser:
        scope = Scope(user_id=user.pk, role=Role.CITY_ADMIN)
    else:
        scope = Scope(user_id=user.pk)
    user._jinpin_scope = scope
    return scope


def _has_membership(user) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        user.membership  # noqa: B018 - touching it loads it
    except (ObjectDoesNotExist, AttributeError):
        return False
    return True


def scope_for_user_id(user_id: int) -> Scope:
    """Rebuild a scope in a task from a user id (re-checks that they are still active)."""
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.filter(pk=user_id).first()
    return get_scope(user)


class ScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.scope = SimpleLazyObject(lambda: get_scope(request.user))
        return self.get_response(request)


def context_processor(request):
    from . import registry

    scope = getattr(request, "scope", NO_SCOPE)
    namespace = getattr(getattr(request, "resolver_match", None), "namespace", None)
    return {
        "scope": scope,
        "Role": Role,
        "scope_role_label": Role(scope.role).label if scope.role else "",
        # built only when the header is rendered (it is kept per process: most requests never read it)
        "menu_sections": SimpleLazyObject(lambda: registry.sections_for(scope, namespace)),
    }


# -- view helpers ---------------------------------------------------------------
def role_required(*roles, write: bool = False):
    """Decorator: the signed-in user must hold one of ``roles`` (any role if none given).

    A person without the role gets 403. With ``write=True`` read-only roles get 403 too.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            from django.contrib.auth.views import redirect_to_login

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = request.scope
            if scope.role is None or (roles and scope.role not in roles):
                raise PermissionDenied
            if write and scope.read_only:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class ScopedFilterSetMixin:
    """A django-filter FilterSet taking ``scope=``: every model-choice filter over a registered
    model offers only in-scope rows, so an out-of-scope id is "not a valid choice"."""

    def __init__(self, data=None, *args, scope: Scope, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.scope = scope
        for f in self.filters.values():
            qs = getattr(f, "queryset", None)
            if isinstance(qs, models.QuerySet) and qs.model._meta.concrete_model in _rules:
                f.queryset = scope.filter(qs)


class ScopedFormMixin:
    """Every model choice field offers only rows in the user's scope.

    Forms take ``scope=`` as a keyword. Choice fields over models that are not
    registered keep their queryset (e.g. choices of reference data).
    """

    def __init__(self, *args, scope: Scope, **kwargs):
        self.scope = scope
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f, (forms.ModelChoiceField, forms.ModelMultipleChoiceField)):
                model = f.queryset.model._meta.concrete_model
                if model in _rules:
                    f.queryset = scope.filter(f.queryset)
                # teachers, schools, pupils: a searchable picker instead of a drop-down of thousands
                autocomplete.use_picker(f)
