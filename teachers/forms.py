"""Forms of the teachers app: they validate and normalise; services write."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jinpin import idcard
from jinpin.forms import validate_ascii_code
from jinpin.scope import ScopedFormMixin
from jinpin.widgets import DateInput
from schools.models import School

from .models import (
    Establishment,
    HonourTitle,
    Movement,
    ServiceKind,
    Teacher,
    TrainingAttendance,
    TrainingCourse,
)

DATE = DateInput()


def duplicate_message(scope, existing: Teacher):
    """The refusal for an ID number already registered: names the record only if the user may see it."""
    if scope.filter(Teacher).filter(pk=existing.pk).exists():
        return format_html(
            _(
                'This ID number is already registered: <a href="{url}">{name}</a> ({school}). Edit that record instead of creating a new one.'
            ),
            url=reverse("teachers:teacher_detail", args=[existing.pk]),
            name=existing.name,
            school=existing.school.name if existing.school_id else _("no current school"),
        )
    # neither where the record is nor that it is "outside your area": one person has one record, so the ID cannot
    # be registered twice, and moving an existing record is the city's work
    return _(
        "This ID number cannot be registered from here. One person has one record in the city: "
        "if the teacher is joining your school, ask the city education bureau."
    )


class TeacherForm(ScopedFormMixin, forms.ModelForm):
    """Create or edit a teacher. Birth date and sex may be left empty: they are read from the ID number."""

    in_post_since = forms.DateField(
        label=_("In post at this school since"),
        required=False,
        widget=DATE,
        help_text=_("Opens the first period of the service history."),
    )
    hire = forms.BooleanField(
        label=_("New hire (补充)"), required=False, help_text=_("Counts towards the replenishment targets.")
    )

    class Meta:
        model = Teacher
        fields = [
            "id_number",
            "name",
            "sex",
            "birth_date",
            "school",
            "post",
            "subject",
            "professional_title",
            "honours",
            "phone",
            "status",
            "left_on",
        ]
        widgets = {"birth_date": DATE, "left_on": DATE, "honours": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        self.fields["honours"].queryset = HonourTitle.objects.all()
        self.fields["school"].queryset = (
            self.fields["school"].queryset.select_related("county").order_by("county__order", "code")
        )
        if self.instance.pk:
            # the current school follows the service history (movements, periods), not this form
            for name in ("school", "in_post_since", "hire"):
                del self.fields[name]
        else:
            del self.fields["status"]
            del self.fields["left_on"]
            if not self.scope.is_city_admin:
                self.fields["school"].required = True
            if self.scope.is_principal:
                self.fields["school"].initial = self.scope.school_id

    def clean_id_number(self):
        number = self.cleaned_data["id_number"].strip().upper()
        info = idcard.parse(number)  # raises the clear checksum / format message
        existing = (
            Teacher.objects.filter(id_number=info.number).exclude(pk=self.instance.pk).select_related("school").first()
        )
        if existing is not None:
            raise ValidationError(duplicate_message(self.scope, existing), code="duplicate")
        return info.number

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        number = data.get("id_number")
        if number:
            info = idcard.parse(number)
            if not data.get("birth_date"):
                data["birth_date"] = self.instance.birth_date = info.birth_date
            if not data.get("sex"):
                data["sex"] = self.instance.sex = info.sex
        if "in_post_since" in self.fields and data.get("school") and not data.get("in_post_since"):
            self.add_error("in_post_since", _("Give the date the teacher took up this post."))
        return data


class ServicePeriodForm(forms.Form):
    """Record a period of earlier service (any school of the city, by its code)."""

    school_code = forms.CharField(label=_("School code"), max_length=10, help_text=_("The 10-digit school code."))
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DATE,
        help_text=_("The first day no longer in this post; empty while in post."),
    )
    full_time = forms.BooleanField(label=_("Full-time"), required=False, initial=True)
    kind = forms.ChoiceField(label=_("Kind"), choices=ServiceKind.choices, initial=ServiceKind.RECORD)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope

    def clean_school_code(self):
        code = self.cleaned_data["school_code"].strip()
        school = School.objects.filter(code=code).first()
        if school is None:
            raise ValidationError(_("No school has the code %(code)s.") % {"code": code})
        self.cleaned_data["school"] = school
        return code

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date cannot be before the start date."))
        school = data.get("school")
        if (
            school is not None
            and self.scope is not None
            and not self.scope.filter(School).filter(pk=school.pk).exists()
        ):
            if data.get("full_time") and not data.get("end"):
                # an open full-time period makes the school the teacher's current one: moving a teacher
                # outside the user's area goes through a movement, never through the history
                self.add_error(
                    "school_code",
                    _(
                        "A current full-time post can only be recorded at a school in your area; plan a movement instead."
                    ),
                )
            elif data.get("kind") and data["kind"] != ServiceKind.RECORD:
                # hires, transfers and movements count towards that area's targets: its own office records them
                self.add_error(
                    "kind",
                    _("Service at a school outside your area is recorded as earlier service (on record)."),
                )
        return data


class ServicePeriodCloseForm(forms.Form):
    end = forms.DateField(label=_("Until"), widget=DATE)


class MovementForm(ScopedFormMixin, forms.ModelForm):
    """Plan a movement (交流轮岗) of a teacher in scope, by ID number, to a school in scope."""

    teacher_id_number = forms.CharField(label=_("Teacher's ID number"), max_length=18)

    class Meta:
        model = Movement
        fields = ["kind", "to_school", "start", "end", "full_time", "note"]
        widgets = {"start": DATE, "end": DATE}

    def __init__(self, *args, teacher=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = (
            self.fields["to_school"].queryset.select_related("county", "village").order_by("county__order", "code")
        )
        if teacher is not None:
            self.fields["teacher_id_number"].initial = teacher.id_number

    def clean_teacher_id_number(self):
        number = self.cleaned_data["teacher_id_number"].strip().upper()
        idcard.parse(number)
        teacher = self.scope.filter(Teacher).filter(id_number=number).select_related("school").first()
        if teacher is None:
            raise ValidationError(_("No teacher in your area has this ID number."))
        self.instance.teacher = teacher
        self.instance.from_school = teacher.school
        return number

    def clean(self):
        data = super().clean()
        if self.instance.teacher_id and data.get("to_school") and self.instance.from_school_id == data["to_school"].pk:
            self.add_error("to_school", _("The teacher already works at this school."))
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date cannot be before the start date."))
        return data


class TransitionForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)


class EstablishmentForm(forms.ModelForm):
    class Meta:
        model = Establishment
        fields = ["posts", "approved_on", "note"]
        widgets = {"approved_on": DATE}


class CourseForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = TrainingCourse
        fields = ["code", "name", "provider", "level", "mode", "hours", "start", "end"]
        widgets = {"start": DATE, "end": DATE}

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        validate_ascii_code(code)
        return code


class AttendanceForm(ScopedFormMixin, forms.ModelForm):
    """Record a teacher's training (the teacher chosen on their page, or by ID number)."""

    teacher_id_number = forms.CharField(label=_("Teacher's ID number"), max_length=18)

    class Meta:
        model = TrainingAttendance
        fields = ["course", "hours", "completed_on", "certificate_no"]
        widgets = {"completed_on": DATE}

    def __init__(self, *args, teacher=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = None
        if teacher is not None:
            self.teacher = teacher
            del self.fields["teacher_id_number"]
        self.fields["course"].queryset = self.fields["course"].queryset.order_by("-start", "code")
        self.fields["hours"].required = False
        self.fields["hours"].help_text = _("Empty: the course's full hours.")
        self.fields["completed_on"].required = False
        self.fields["completed_on"].help_text = _("Empty: the course's end date.")

    def clean_teacher_id_number(self):
        number = self.cleaned_data["teacher_id_number"].strip().upper()
        idcard.parse(number)
        self.teacher = self.scope.filter(Teacher).filter(id_number=number).first()
        if self.teacher is None:
            raise ValidationError(_("No teacher in your area has this ID number."))
        return number

    def clean(self):
        data = super().clean()
        course = data.get("course")
        if course is None:
            return data
        if data.get("hours") is None:
            data["hours"] = course.hours
        if data["hours"] < 0:
            self.add_error("hours", _("Hours cannot be negative."))
        elif data["hours"] > course.hours:
            self.add_error("hours", _("More hours than the course offers (%(h)s).") % {"h": course.hours})
        if not data.get("completed_on"):
            data["completed_on"] = course.end
        if self.teacher is not None and TrainingAttendance.objects.filter(teacher=self.teacher, course=course).exists():
            self.add_error("course", _("This teacher's attendance of this course is already recorded."))
        return data


class HonourIssueForm(forms.Form):
    year = forms.IntegerField(label=_("Honour year"), min_value=1980, max_value=2100)
    issued_on = forms.DateField(label=_("Issued on"), widget=DATE, initial=timezone.localdate)
