"""The lists of supervision that are data the city administrator keeps (市直部门, the 六核对 checklist,
the finding categories), edited in the application with one pattern: a list page and an add/edit form.

Rows are never deleted (checks, findings and draw records point at them); an administrator renames
or deactivates them. A deactivated department is left out of the next department draws (a draw's
population is the active departments) while past draws keep their record and still verify; a
deactivated checklist item or category is no longer offered on new checks or findings, and what was
recorded keeps it. Every change is in the audit log (the models are registered with it)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import ChecklistItem, CityDepartment, FindingCategory


@dataclass(frozen=True)
class EditableList:
    kind: str  # in the URL
    model: type
    fields: tuple[str, ...]  # on the form; ``code`` is typed when adding and fixed afterwards
    columns: tuple[str, ...]  # on the list page, besides active / deactivated
    title: Promise
    intro: Promise
    labels: dict | None = None  # where a field's own name reads wrongly here

    def form_class(self):
        return forms.modelform_factory(self.model, fields=self.fields, labels=self.labels)

    def headers(self) -> list[str]:
        labels = self.labels or {}
        return [labels.get(f) or self.model._meta.get_field(f).verbose_name for f in self.columns]

    def form(self, data, instance):
        form = self.form_class()(data, instance=instance)
        if instance.pk:  # the code identifies the row in seeds and reports: it stays
            form.fields["code"].disabled = True
        else:
            form.fields["code"].help_text = _(
                "A short identifier (letters, digits), not shown to users; fixed once saved."
            )
        return form


LISTS = {
    spec.kind: spec
    for spec in (
        EditableList(
            "departments",
            CityDepartment,
            ("code", "name", "order", "is_active"),
            ("name", "order"),
            _("City departments (市直部门)"),
            _(
                "The departments a group's assigned departments are drawn from at the meeting: a draw's population "
                "is the active departments. Deactivating one leaves it out of the next draws; past draws keep "
                "their record and still verify."
            ),
        ),
        EditableList(
            "checklist",
            ChecklistItem,
            ("code", "label", "help_text", "order", "is_active"),
            ("label", "help_text", "order"),
            _("Checklist (六核对)"),
            _(
                "The items an inspector checks at each drawn household. A deactivated item is no longer offered on "
                "new checks; the results already recorded keep it."
            ),
            labels={"label": _("Checklist item")},
        ),
        EditableList(
            "categories",
            FindingCategory,
            ("code", "name", "order", "is_active"),
            ("name", "order"),
            _("Finding categories"),
            _(
                "The kinds of problem a finding is filed under. A deactivated category is no longer offered on new "
                "findings; the findings already recorded keep it."
            ),
        ),
    )
}


def get(kind: str) -> EditableList:
    try:
        return LISTS[kind]
    except KeyError:
        raise Http404 from None
