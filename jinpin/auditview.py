"""The audit log as an auditor reads it (issue 13): the record's kind and name, the person, the action,
each changed field by its Chinese name with its values from → to as the page shows them elsewhere
(choice labels, names for links, 是/否, dates), and the entry's extra data as labelled facts.

Display only: the stored entries and their hash chain (``jinpin.auditchain``) are never touched.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import display

ACTIONS = {
    0: pgettext_lazy("audit action", "Create"),
    1: pgettext_lazy("audit action", "Change"),
    2: pgettext_lazy("audit action", "Delete"),
    3: pgettext_lazy("audit action", "View"),
}

#: what happened, for entries that say so in ``additional_data["event"]``
EVENTS = {
    "download": _("Downloaded a file"),
    "reveal": _("Full personal data shown"),
    "seal_verify": _("Seal of a payout batch checked"),
    "bank_return": _("Bank return file applied"),
    "subsidy_batch": _("Subsidy batch calculated"),
    "award_apply": _("Awards applied"),
    "award_review": _("Awards reviewed"),
    "award_approve": _("Awards approved"),
    "award_return": _("Awards returned one step"),
    "award_reject": _("Awards rejected"),
    "batch_difference_resolved": _("Batch difference resolved"),
    "promote": _("Pupils moved up a school year"),
    "transfer_request": _("Transfer requested"),
    "transfer_confirm": _("Transfer confirmed"),
    "transfer_reject": _("Transfer rejected"),
    "payment_change_request": _("Change of payment details requested"),
    "payment_change_confirm": _("Change of payment details confirmed"),
    "payment_change_reject": _("Change of payment details rejected"),
    "calendar_reassign": _("Activities moved to another school calendar"),
    "import": _("Spreadsheet imported"),
    "job_run_again": _("Job run again"),
    "rural_honour_issued": _("Rural teaching honour certificates issued"),
}

#: the labels of ``additional_data``'s keys; a key not listed is shown by its words
DATA_LABELS = {
    "event": _("Event"),
    "file": _("File"),
    "rows": _("Rows"),
    "fields": _("Fields"),
    "place": _("Where"),
    "count": _("Count"),
    "lines": _("Lines"),
    "total": _("Total (yuan)"),
    "total_fen": _("Total (fen)"),
    "seal": _("Seal"),
    "sha256": "SHA-256",
    "paid": _("Paid"),
    "failed": _("Failed"),
    "paid_lines": _("Paid lines"),
    "failed_lines": _("Failed lines"),
    "awards_paid": _("Awards paid"),
    "award": _("Award"),
    "amount": _("Amount"),
    "reason": _("Reason"),
    "period": _("Period"),
    "county": _("County"),
    "students": _("Pupils"),
    "created": _("New"),
    "updated": _("Updated"),
    "unchanged": _("Unchanged"),
    "dropped": _("No longer eligible"),
    "flagged": _("For review"),
    "awards": _("Awards"),
    "award_ids": _("Awards"),
    "schools": _("Schools"),
    "change": _("Difference"),
    "run": _("Batch run"),
    "kind": _("Kind"),
    "resolution": _("Resolution"),
    "student": _("Pupil"),
    "from_school": _("From school"),
    "to_school": _("To school"),
    "school_year": _("School year"),
    "enrolment": _("Enrolment"),
    "moved_from": _("Moved from"),
    "payment_changes_rejected": _("Payment changes rejected"),
    "note": _("Note"),
    "requested_by": _("Requested by"),
    "sample_size": _("Sample size"),
    "sample_hash": _("Sample fingerprint"),
    "village": _("Village"),
    "step": _("Step"),
    "importer": _("Import"),
    "verified": _("Verified"),
    "downloaded": _("Downloaded"),
    "ok": _("Result"),
    "problems": _("Problems"),
    "activities": _("Activities"),
    "year": _("Year"),
    "errors": _("Errors"),
    "report": _("Report"),
    "traced_by": _("Traced by"),
    # fields declared without a verbose name of their own
    "created_by": _("created by"),
    "finding": _("finding"),
    "household_check": _("household check"),
    "confirmed_by": pgettext_lazy("audit field", "Confirmed by"),
    "disbursed_by": pgettext_lazy("audit field", "Disbursed by"),
    "sent_by": pgettext_lazy("audit field", "Sent by"),
    "updated_by": pgettext_lazy("audit field", "Updated by"),
    "uploaded_by": pgettext_lazy("audit field", "Uploaded by"),
    "width": pgettext_lazy("audit field", "Width"),
    "height": pgettext_lazy("audit field", "Height"),
}

DATA_LABELS.update(
    {
        "rate": _("Sampling rate"),
        "minimum": _("At least per stratum"),
        "rounding": _("Rounding"),
        "stratum": _("Strata"),
        "counties": _("Counties"),
        "registry": _("Population"),
        "status_on": _("Status on"),
        "payout_lines": _("Payout lines"),
        "city_departments": _("City departments"),
        "lines_sealed": _("Lines sealed"),
        "objects": _("Records"),
        "operation": _("Operation"),
    }
)

#: stored codes and descriptions (a draw's parameters and filters) as people read them
VALUE_LABELS = {
    "half_up": _("round half up"),
    "village code": _("by village"),
    "county code/scheme code": _("by county and scheme"),
    "poor households (verified or returned to poverty)": _("Poor households (verified or returned to poverty)"),
    "active": _("active"),
    "paid": _("paid"),
    "anomalies": _("Anomaly report"),
    "add": _("added"),
    "remove": _("removed"),
    "clear": _("cleared"),
}

#: keys whose value is a code for machines (a job's parameters): left out of the page
HIDDEN_DATA = {"params"}

#: ids in ``additional_data`` shown by the name of what they point at
DATA_REFERENCES = {
    "county": "schools.County",
    "from_school": "schools.School",
    "to_school": "schools.School",
    "moved_from": "schools.School",
    "village": "schools.Village",
    "requested_by": "auth.User",
}

#: what a manager prints when auditlog reads a many-to-many field of a new object (``pairing.Activity.None``)
_MANAGER_REPR = re.compile(r"^[a-z_]+\.[A-Za-z]+\.None$")
_EMPTY = {None, "", "None", "null", "[]"}
MAX_LIST = 10


@dataclass
class Shown:
    """One entry as the page shows it."""

    entry: object
    action: str
    event: str
    model: str
    name: str
    actor: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # label, before, after
    data: list[tuple[str, str]] = field(default_factory=list)  # label, value


def show_page(request, entries) -> list[Shown]:
    """The entries of one page, with every name they need fetched in one query per related model."""
    from . import privacy

    entries = list(entries)
    raw = [(e, privacy.audit_changes(request, e)) for e in entries]
    refs: dict[type, set] = defaultdict(set)
    for e, changes in raw:
        model = _model(e)
        for name, before, after in changes:
            f = _field(model, name)
            if isinstance(f, models.ForeignKey):
                for v in (before, after):
                    if _is_empty(v):
                        continue
                    try:
                        refs[f.related_model].add(f.related_model._meta.pk.to_python(v))
                    except Exception:  # noqa: BLE001,S112 - a masked or legacy value is shown as stored
                        continue
        for key, value in (e.additional_data or {}).items() if isinstance(e.additional_data, dict) else ():
            target = DATA_REFERENCES.get(key)
            if target and isinstance(value, int):
                refs[_get_model(target)].add(value)
    user_model = get_user_model()
    people = [e.object_pk for e, _c in raw if _model(e) is user_model and str(e.object_pk).isdigit()]
    refs[user_model].update(int(pk) for pk in people)
    names = _names({m: pks for m, pks in refs.items() if m}, request)
    shown = [_show(e, changes, names) for e, changes in raw]
    for s in shown:  # a person is named as people know them, not by the login kept in the entry
        if _model(s.entry) is user_model and str(s.entry.object_pk).isdigit():
            s.name = names[user_model].get(int(s.entry.object_pk), s.name)
    return shown


def _names(refs: dict, request) -> dict:
    """``{model: {pk: name}}`` of the rows a page of entries names (one query per model), kept in the shared cache
    while those tables are unchanged (``jinpin.pagecache.kept``): the page asked eight to ten tables again on
    every request."""
    from django.utils import translation

    from . import pagecache

    wanted = sorted((m._meta.label, sorted(pks, key=str)) for m, pks in refs.items())
    scope = request.scope

    def compute():
        return {
            m._meta.label: {o.pk: str(_name(o)) for o in _with_parents(m).filter(pk__in=pks)} for m, pks in refs.items()
        }

    by_label = pagecache.kept("auditnames", (translation.get_language(), scope.role, scope.county_id, wanted), compute)
    return {m: by_label.get(m._meta.label, {}) for m in refs}


def _with_parents(model):
    """The model's rows with the rows their required foreign keys point at joined in: a name is often
    written from one (an inspection group is "campaign · group", an award names its scheme), and without
    the join each named row would cost a query of its own — the page's query count would follow its rows."""
    joined = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and not f.null and f.related_model is not model
    ]

    # no name is written from a document or an array (a draw's population and sample, an award's facts): those
    # are neither read nor decoded
    def bulky(m, prefix=""):
        return [f"{prefix}{f.name}" for f in m._meta.concrete_fields if isinstance(f, (models.JSONField, ArrayField))]

    deferred = bulky(model) + [name for fk in joined for name in bulky(fk.related_model, f"{fk.name}__")]
    return model._default_manager.select_related(*(f.name for f in joined)).defer(*deferred)


def _show(entry, changes, names) -> Shown:
    model = _model(entry)
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    shown = Shown(
        entry=entry,
        action=str(ACTIONS.get(entry.action, entry.action)),
        event=str(EVENTS.get(data.get("event"), "")) if data.get("event") else "",
        model=str(model._meta.verbose_name) if model else _("record"),
        name=entry.object_repr or (f"#{entry.object_pk}" if entry.object_pk else ""),
        actor=display.person(entry.actor) if entry.actor_id else "",
    )
    for name, before, after in changes:
        if isinstance(before, dict) and after in ("", None):  # a many-to-many change is one dict, not a pair
            before, after = "", before
        f = _field(model, name)
        label = str(f.verbose_name) if f is not None and hasattr(f, "verbose_name") else ""
        if not label or label == name.replace("_", " "):  # a field without a verbose name of its own
            label = str(DATA_LABELS.get(name, _words(name)))
        b, a = _value(f, before, names), _value(f, after, names)
        if not b and not a:
            continue
        shown.changes.append((label, b, a))
    for key, value in data.items():
        if key == "event" or key in HIDDEN_DATA:
            continue
        shown.data.append((str(DATA_LABELS.get(key, _words(key))), _data_value(key, value, names)))
    return shown


def _model(entry):
    return ContentType.objects.get_for_id(entry.content_type_id).model_class() if entry.content_type_id else None


def _get_model(label: str):
    from django.apps import apps

    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _field(model, name):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _name(obj) -> str:
    if isinstance(obj, get_user_model()):
        return display.person(obj)
    return str(obj)


def _is_empty(v) -> bool:
    return v in _EMPTY if isinstance(v, (str, type(None))) else False


def _value(f, value, names) -> str:
    """A stored value (auditlog keeps strings) as the page shows the field."""
    if isinstance(value, str) and _MANAGER_REPR.match(value):
        return ""
    if _is_empty(value):
        return ""
    if isinstance(value, dict) and value.get("type") == "m2m":  # auditlog's record of a many-to-many change
        return _("%(operation)s: %(objects)s") % {
            "operation": _plain(value.get("operation", "")),
            "objects": _join(str(o) for o in value.get("objects") or []) or "—",
        }
    if isinstance(f, models.JSONField) and isinstance(value, str):
        try:
            return readable(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return readable(value)
    if isinstance(value, (list, tuple)):
        return _join(_value(f, v, names) for v in value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return _join(_value(f, v, names) for v in parsed)
    if f is None:
        return _plain(value)
    if getattr(f, "choices", None):
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return display.yes_no(str(value) in ("True", "true", "1"))
    if isinstance(f, models.ForeignKey):
        try:
            pk = f.related_model._meta.pk.to_python(value)
        except Exception:  # noqa: BLE001
            return str(value)
        return names.get(f.related_model, {}).get(pk) or _("%(model)s #%(pk)s (deleted)") % {
            "model": f.related_model._meta.verbose_name,
            "pk": pk,
        }
    if isinstance(f, (models.DateField, models.DateTimeField)):
        return display.date(str(value))
    if isinstance(f, models.DecimalField) and "amount" in f.name:
        return display.yuan(value)
    return str(value)


def _data_value(key, value, names) -> str:
    from . import privacy

    if key == "event":
        return str(EVENTS.get(value, value))
    if key == "fields" and isinstance(value, list):
        return _join(str(privacy.FIELDS.get(v, _words(v))) for v in value)
    if key == "place" and isinstance(value, str):
        return str(privacy.PLACES.get(value, _words(value)))
    target = DATA_REFERENCES.get(key)
    if target and isinstance(value, int):
        model = _get_model(target)
        return names.get(model, {}).get(value) or f"#{value}"
    if key in ("amount", "total") and isinstance(value, (str, int, float)):
        return display.yuan(value)
    return _plain(value)


def _plain(value) -> str:
    if value is None or value == "None":
        return "—"
    if isinstance(value, bool):
        return display.yes_no(value)
    if isinstance(value, dict):
        return "；".join(f"{DATA_LABELS.get(k, _words(k))}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST:
            return _("%(first)s … (%(n)s in all)") % {
                "first": _join(_plain(v) for v in value[:MAX_LIST]),
                "n": len(value),
            }
        return _join(_plain(v) for v in value)
    if isinstance(value, str) and value in EVENTS:
        return str(EVENTS[value])
    if isinstance(value, str) and value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    if isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", value):
        return _words(value)
    return str(value)


def readable(value) -> str:
    """Any stored value (a dict of parameters, a list, a code) as labelled words: the ``readable`` filter."""
    return _plain(value)


def _join(values) -> str:
    return "、".join(v for v in values if v)


def _words(key: str) -> str:
    """A key nobody named: its words, without the underscores."""
    return str(key).replace("_", " ")


def model_choices() -> list[tuple[str, str]]:
    """The kinds of record the log can be filtered by: ``app.model`` and the Chinese name, in name order."""
    from auditlog.registry import auditlog
    from django.contrib.auth import get_user_model

    from .models import Job

    wanted = set(auditlog.get_models()) | {Job, get_user_model()}
    out = [(f"{m._meta.app_label}.{m._meta.model_name}", str(m._meta.verbose_name)) for m in wanted]
    return sorted(out, key=lambda c: c[1])
