"""Who is eligible for what, defined once (资助对象认定).

Every rule reads a student's **facts** on the period's decisive date: the columns of
``FACTS`` below. The batch computes them from the registry (``FACTS[name].source``) and
freezes them on each award as JSON; the anomaly report reads them back from that JSON. The
eligibility groups (``GROUPS``), the stage a rate is paid at (``RATE_STAGE``), a scheme's
conditions and its amount lines are small expressions over those facts, written once here
and rendered two ways:

* ``expr.sql(ref, params)`` — a SQL boolean/value; ``ref(name)`` says where a fact lives
  (``base.orphan`` in the batch, ``(facts->>'orphan')::boolean`` on a frozen award);
* ``expr.value(facts)`` — the same in Python over a facts dict (tests, benchmarks, forms).

Both are two-valued: a missing fact is false / never equal, in SQL as in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy

from schools.models import Location, Poverty, Stage

from .models.registry import POOR_STATUSES
from .models.schemes import Group, RateVersion, Scheme

Ref = Callable[[str], str]


# -- the facts ------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """One fact about a student on the decisive date, as the batch reads it and the award keeps it."""

    name: str
    type: str  # SQL type of the column (and of the JSON value read back)
    source: str  # SQL over the batch's tables: enrolment, student, school, household, status_now, village
    label: str = ""  # how the award page names it (a lazy translation)


FACTS = {
    f.name: f
    for f in (
        Fact("date", "date", "%s::date", gettext_lazy("Decisive date")),  # the decisive date, a parameter
        Fact("school", "bigint", "enrolment.school_id", gettext_lazy("School")),
        Fact("stage", "text", "enrolment.stage", gettext_lazy("Stage")),
        Fact("grade", "integer", "enrolment.grade", gettext_lazy("Grade")),
        Fact("poor_village", "text", f"COALESCE(village.poverty, '{Poverty.NONE}')", gettext_lazy("Poor village")),
        Fact("rural", "boolean", f"school.location = '{Location.RURAL}'", gettext_lazy("Rural school")),
        Fact("household", "bigint", "student.household_id", gettext_lazy("Registered poor household")),
        Fact("household_status", "text", "status_now.status", gettext_lazy("Household status")),
        Fact(
            "pupil_dibao", "boolean", "student.is_dibao", gettext_lazy("Pupil's family receives 低保")
        ),  # the pupil's family is an (urban) 低保 family
        Fact(
            "household_dibao", "boolean", "COALESCE(household.is_dibao, FALSE)", gettext_lazy("Household receives 低保")
        ),  # the registered household's 低保 flag
        Fact("tekun", "boolean", "COALESCE(household.is_tekun, FALSE)", gettext_lazy("Extreme-poverty support (特困)")),
        Fact("orphan", "boolean", "student.is_orphan", gettext_lazy("Orphan")),
        Fact("disabled", "boolean", "student.is_disabled", gettext_lazy("Disabled")),
        Fact("special_ed", "boolean", "student.is_special_ed", gettext_lazy("Special-education pupil")),
        Fact("boarder", "boolean", "student.is_boarder", gettext_lazy("Boarder")),
        Fact("birth_date", "date", "student.birth_date", gettext_lazy("Date of birth")),
    )
}


def column_ref(alias: str) -> Ref:
    """Facts as the typed columns of a row ``alias`` (the batch's ``base``)."""
    return lambda name: f"{alias}.{name}"


def json_ref(column: str) -> Ref:
    """Facts read back from a frozen JSON copy (an award's ``facts``)."""
    return lambda name: f"({column}->>'{name}')::{FACTS[name].type}"


def decode(facts: Mapping) -> dict:
    """A frozen facts dict (JSON) with dates as dates, for ``value``."""
    out = dict(facts)
    for name, fact in FACTS.items():
        if fact.type == "date" and isinstance(out.get(name), str):
            out[name] = dt.date.fromisoformat(out[name])
    return out


def facts_display(facts: Mapping, *, school=None, household=None) -> list[tuple[str, str]]:
    """An award's frozen facts as the award page lists them (认定基准日情况): each fact's Chinese label and
    its value as people read it -- 是/否, the school's and household's names, choice labels, dates.
    ``school`` and ``household`` are objects the caller already holds (the award's): used when they are
    the ones the facts name, else one query each. Facts the batch did not record are left out."""
    from jinpin import display
    from schools.models import School

    from .models.registry import Household, HouseholdStatus

    labels = {
        "stage": dict(Stage.choices),
        "poor_village": dict(Poverty.choices),
        "household_status": dict(HouseholdStatus.Status.choices),
    }
    if school is not None and school.pk == facts.get("school"):
        school = school.name
    else:
        school = School.objects.filter(pk=facts.get("school")).values_list("name", flat=True).first()
    if not facts.get("household"):
        household = None
    elif household is not None and household.pk == facts.get("household"):
        household = (household.number, household.head_name)
    else:
        household = Household.objects.filter(pk=facts.get("household")).values_list("number", "head_name").first()
    out = []
    for name, fact in FACTS.items():
        if name not in facts:
            continue
        value = facts[name]
        if name == "school":
            shown = school or "—"
        elif name == "household":
            shown = f"{household[1]}（{household[0]}）" if household else "—"
        elif name in labels:
            shown = str(labels[name].get(value, value)) if value not in (None, "") else "—"
        elif fact.type == "boolean":
            shown = display.yes_no(bool(value))
        elif fact.type == "date":
            shown = display.date(value) or "—"
        else:
            shown = "—" if value is None else str(value)
        out.append((str(fact.label or name), shown))
    return out


# -- expressions ------------------------------------------------------------------------
class Expr:
    def sql(self, ref: Ref, params: list) -> str:
        raise NotImplementedError

    def value(self, facts: Mapping):
        raise NotImplementedError


@dataclass(frozen=True)
class Value(Expr):
    """A fact's value (``Value("stage")``) or, with ``const=True``, a constant (sent as a parameter)."""

    name: object
    const: bool = False

    def sql(self, ref, params):
        if self.const:
            params.append(self.name)
            return "%s"
        return ref(self.name)

    def value(self, facts):
        return self.name if self.const else facts.get(self.name)


def const(v) -> Value:
    return Value(v, const=True)


@dataclass(frozen=True)
class Flag(Expr):
    """A boolean fact; missing is false."""

    name: str

    def sql(self, ref, params):
        return f"COALESCE({ref(self.name)}, FALSE)"

    def value(self, facts):
        return bool(facts.get(self.name))


@dataclass(frozen=True)
class In(Expr):
    """``left`` is one of ``values`` (a missing value is in nothing)."""

    left: Expr
    values: tuple

    def sql(self, ref, params):
        if not self.values:
            return "FALSE"
        left = self.left.sql(ref, params)
        params.extend(self.values)
        return f"COALESCE({left} IN ({', '.join(['%s'] * len(self.values))}), FALSE)"

    def value(self, facts):
        v = self.left.value(facts)
        return v is not None and v in self.values


@dataclass(frozen=True)
class Compare(Expr):
    """``left op right`` for ``<=`` and ``>`` (dates, grades); false when either side is missing."""

    left: Expr
    op: str
    right: Expr

    def sql(self, ref, params):
        assert self.op in ("<=", ">")
        return f"COALESCE({self.left.sql(ref, params)} {self.op} {self.right.sql(ref, params)}, FALSE)"

    def value(self, facts):
        a, b = self.left.value(facts), self.right.value(facts)
        if a is None or b is None:
            return False
        return a <= b if self.op == "<=" else a > b


@dataclass(frozen=True)
class All(Expr):
    parts: tuple

    def sql(self, ref, params):
        return "(" + " AND ".join(p.sql(ref, params) for p in self.parts) + ")" if self.parts else "TRUE"

    def value(self, facts):
        return all(p.value(facts) for p in self.parts)


@dataclass(frozen=True)
class Any(Expr):
    parts: tuple

    def sql(self, ref, params):
        return "(" + " OR ".join(p.sql(ref, params) for p in self.parts) + ")" if self.parts else "FALSE"

    def value(self, facts):
        return any(p.value(facts) for p in self.parts)


TRUE = All(())


@dataclass(frozen=True)
class Case(Expr):
    """The first ``(condition, result)`` whose condition holds, else ``default`` (None: no value)."""

    whens: tuple
    default: Expr | None = None
    cast: str = ""

    def sql(self, ref, params):
        parts = [f"WHEN {c.sql(ref, params)} THEN {r.sql(ref, params)}" for c, r in self.whens]
        if self.default is not None:
            parts.append(f"ELSE {self.default.sql(ref, params)}")
        sql = f"(CASE {' '.join(parts)} END)" if parts else "NULL"
        return f"{sql}::{self.cast}" if self.cast else sql

    def value(self, facts):
        for c, r in self.whens:
            if c.value(facts):
                return r.value(facts)
        return self.default.value(facts) if self.default is not None else None


# -- the rules ------------------------------------------------------------------------
#: a registered poor household, verified (or returned to poverty) on the decisive date
POOR = In(Value("household_status"), tuple(str(s) for s in POOR_STATUSES))

#: the stage a rate is paid at: a nine-year school's grades 1–6 are primary, 7–9 junior secondary (DOMAIN.md)
_NINE_YEAR = In(Value("stage"), (Stage.NINE_YEAR.value,))
RATE_STAGE = Case(
    (
        (All((_NINE_YEAR, Compare(Value("grade"), "<=", const(6)))), const(Stage.PRIMARY.value)),
        (_NINE_YEAR, const(Stage.JUNIOR.value)),
    ),
    default=Value("stage"),
)

_DIBAO = Any((Flag("pupil_dibao"), All((Flag("household_dibao"), POOR))))
_TEKUN = All((Flag("tekun"), POOR))

#: each eligibility group, once
GROUPS: dict[str, Expr] = {
    Group.ANY: TRUE,
    Group.POOR: POOR,
    # an urban 低保 family (the pupil's own flag, no registered household needed), or a registered poor
    # household that also holds 低保 — its flag counts only while it is poor on the decisive date
    Group.DIBAO: _DIBAO,
    Group.TEKUN: _TEKUN,
    Group.HARDSHIP: Any((POOR, _DIBAO, _TEKUN)),
    Group.ORPHAN: Flag("orphan"),
    Group.DISABLED: Flag("disabled"),
    Group.SPECIAL_ED: Any((Flag("special_ed"), In(Value("stage"), (Stage.SPECIAL.value,)))),
    Group.BOARDER: Flag("boarder"),
}


def at_stage(stages) -> Expr:
    """Enrolled at one of ``stages``: the school's own stage, or the stage its grade counts as (nine-year)."""
    stages = tuple(str(s) for s in stages)
    return Any((In(Value("stage"), stages), In(RATE_STAGE, stages)))


def years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def condition(scheme: Scheme, decisive: dt.date) -> Expr:
    """Who the scheme is for: every condition must hold; its groups are "any of"."""
    parts: list[Expr] = []
    if scheme.stages:
        parts.append(at_stage(scheme.stages))
    if scheme.poor_village_school:
        parts.append(In(Value("poor_village"), tuple(p for p in Poverty.values if p != Poverty.NONE)))
    if scheme.rural_school:
        parts.append(Flag("rural"))
    if scheme.boarders_only:
        parts.append(Flag("boarder"))
    if scheme.min_age is not None:  # at least min_age completed years on the decisive date
        parts.append(Compare(Value("birth_date"), "<=", const(years_before(decisive, scheme.min_age))))
    if scheme.max_age is not None:  # not yet max_age + 1
        parts.append(Compare(Value("birth_date"), ">", const(years_before(decisive, scheme.max_age + 1))))
    if scheme.groups:
        parts.append(Any(tuple(GROUPS[g] for g in scheme.groups)))
    return All(tuple(parts))


def line_condition(when: str) -> Expr:
    """An amount line's ``when``: ``any``, ``group:<Group>`` or ``stage:<Stage>``."""
    if when == "any":
        return TRUE
    kind, _sep, value = when.partition(":")
    if kind == "group":
        return GROUPS[value]
    if kind == "stage":
        return at_stage([value])
    raise ValueError(when)


def amount(rate: RateVersion) -> Expr:
    """The rate's amount: the first line whose condition holds (None when none does)."""
    return Case(
        tuple((line_condition(line["when"]), const(line["amount"])) for line in rate.parsed_lines()),
        cast="numeric(10, 2)",
    )


def groups_of(facts: Mapping) -> set[str]:
    """The groups a student described by ``facts`` belongs to (Python)."""
    return {g for g, expr in GROUPS.items() if expr.value(facts)}


def evaluate(scheme: Scheme, rate: RateVersion, decisive: dt.date, facts: Mapping) -> Decimal | None:
    """The award the rules give one student (Python): its amount, or None when not eligible."""
    facts = decode(facts)
    if not condition(scheme, decisive).value(facts):
        return None
    return amount(rate).value(facts)
