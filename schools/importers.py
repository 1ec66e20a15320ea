"""Spreadsheet imports of villages and schools (on the jinpin.imports base)."""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jinpin.forms import ASCII_DIGITS
from jinpin.imports import Col, Importer

from .models import County, Location, Poverty, School, Stage, Town, Village


def _county_lookup(scope):
    """Counties by name and code, in scope only."""
    out = {}
    for c in scope.filter(County):
        out[c.name] = c
        out[c.code] = c
    return out


class VillageImporter(Importer):
    identifier = "schools.villages"
    verbose_name = gettext_lazy("Villages")
    natural_key = ("code",)
    columns = [
        Col(
            "county", gettext_lazy("County"), "text", max_length=50, help=gettext_lazy("The county's name, e.g. 汶上县")
        ),
        Col("town_code", gettext_lazy("Town code"), "code", max_length=9, help=gettext_lazy("9-digit division code")),
        Col("town_name", gettext_lazy("Town name"), "text", max_length=50),
        Col("code", gettext_lazy("Village code"), "code", max_length=12, help=gettext_lazy("12-digit division code")),
        Col("name", gettext_lazy("Village name"), "text", max_length=50),
        Col("poverty", gettext_lazy("Poverty designation"), "choice", choices=Poverty),
        Col("designated_on", gettext_lazy("Designated on"), "date", required=False),
    ]

    def prepare(self, rows):
        self.counties = _county_lookup(self.scope)
        self.towns = {t.code: t for t in Town.objects.filter(code__in={r["town_code"] for r in rows if r["town_code"]})}
        self.existing = {v.code: v for v in Village.objects.filter(code__in={r["code"] for r in rows if r["code"]})}
        self.visible = set(self.scope.filter(Village).filter(code__in=self.existing).values_list("code", flat=True))

    def clean_row(self, row):
        # every rule runs, so that all of a row's problems are reported at once
        county = self.counties.get(row["county"])
        if county is None and row["county"] is not None:
            self.error("county", _("“%(value)s” is not a county you manage.") % {"value": row["county"]})
        code, town_code = row["code"] or "", row["town_code"] or ""
        if not ASCII_DIGITS.fullmatch(code) or len(code) != 12:
            self.error("code", _("The village code has 12 digits."))
        if not ASCII_DIGITS.fullmatch(town_code) or len(town_code) != 9:
            self.error("town_code", _("The town code has 9 digits."))
        elif not code.startswith(town_code):
            self.error("code", _("The village code must start with its town's code %(code)s.") % {"code": town_code})
        town = self.towns.get(town_code)
        if town is not None and county is not None and town.county_id != county.pk:
            self.error("town_code", _("This town belongs to another county."))
        if row["code"] in self.existing and row["code"] not in self.visible:
            self.error("code", _("This code is already used by a village outside your area."))
        row["county_obj"] = county

    def save(self, rows):
        created = updated = unchanged = 0
        for row in rows:
            town = self.towns.get(row["town_code"])
            if town is None:
                town = Town.objects.create(county=row["county_obj"], code=row["town_code"], name=row["town_name"])
                self.towns[town.code] = town
            values = {
                "town": town,
                "name": row["name"],
                "poverty": row["poverty"],
                "designated_on": row["designated_on"],
            }
            village = self.existing.get(row["code"])
            if village is None:
                Village(code=row["code"], **values).save()
                created += 1
            else:
                changed = [k for k, v in values.items() if getattr(village, k) != v]
                if changed:
                    for k in changed:
                        setattr(village, k, values[k])
                    village.save(update_fields=changed)
                    updated += 1
                else:
                    unchanged += 1
        return created, updated, unchanged


class SchoolImporter(Importer):
    """Schools, in the layout of the schools export: an exported list can be edited and imported back.
    Towns and villages are named as the lists show them (a division code is accepted too), looked up
    within the uploader's counties only."""

    identifier = "schools.schools"
    verbose_name = gettext_lazy("Schools")
    natural_key = ("code",)
    columns = [
        Col(
            "code",
            gettext_lazy("School code"),
            "code",
            max_length=10,
            help=gettext_lazy("10-digit national school identification code"),
        ),
        Col("name", gettext_lazy("School name"), "text", max_length=100),
        Col("county", gettext_lazy("County"), "text", max_length=50),
        Col(
            "town",
            gettext_lazy("Town"),
            "text",
            required=False,
            max_length=50,
            help=gettext_lazy("The town's name as the schools list shows it (or its 9-digit code)"),
            aliases=(gettext_lazy("Town code"),),
        ),
        Col(
            "village",
            gettext_lazy("Village"),
            "text",
            required=False,
            max_length=50,
            help=gettext_lazy("The village's name as the villages list shows it (or its 12-digit code)"),
            aliases=(gettext_lazy("Village code"),),
        ),
        Col("stage", gettext_lazy("Stage"), "choice", choices=Stage),
        Col("location", gettext_lazy("Location class"), "choice", choices=Location),
        Col("is_weak", gettext_lazy("Weak school"), "bool"),
        Col("address", gettext_lazy("Address"), "text", required=False, max_length=200),
        Col("pupils", gettext_lazy("Pupils"), "int", required=False),
    ]

    def prepare(self, rows):
        self.counties = _county_lookup(self.scope)
        county_ids = {c.pk for c in self.counties.values()}
        towns = {r["town"] for r in rows if r["town"]}
        villages = {r["village"] for r in rows if r["village"]}
        self.towns = {}  # (county id, name or code) -> town
        for t in Town.objects.filter(county_id__in=county_ids).filter(Q(name__in=towns) | Q(code__in=towns)):
            self.towns[(t.county_id, t.name)] = self.towns[(t.county_id, t.code)] = t
        self.villages = {}  # (county id, name or code) -> [villages]
        for v in Village.objects.filter(county_id__in=county_ids).filter(Q(name__in=villages) | Q(code__in=villages)):
            self.villages.setdefault((v.county_id, v.name), []).append(v)
            self.villages.setdefault((v.county_id, v.code), []).append(v)
        codes = {r["code"] for r in rows if r["code"]}
        self.existing = {s.code: s for s in School.objects.filter(code__in=codes)}
        self.visible = set(self.scope.filter(School).filter(code__in=codes).values_list("code", flat=True))
        names = {r["name"] for r in rows if r["name"]}
        self.names = {(s.county_id, s.name): s.code for s in School.objects.filter(name__in=names)}

    def clean_row(self, row):
        # every rule runs, so that all of a row's problems are reported at once
        county = self.counties.get(row["county"])
        if county is None and row["county"] is not None:
            self.error("county", _("“%(value)s” is not a county you manage.") % {"value": row["county"]})
        code = row["code"] or ""
        if not ASCII_DIGITS.fullmatch(code) or len(code) != 10:
            self.error("code", _("The school code has 10 digits."))
        if code in self.existing and code not in self.visible:
            self.error("code", _("This code is already used by a school outside your area."))
        if row["pupils"] is not None and not (0 <= row["pupils"] <= 20000):
            self.error("pupils", _("The number of pupils must be between 0 and 20000."))
        town = village = None
        if county is not None:
            other = self.names.get((county.pk, row["name"]))
            if other and other != code:
                self.error(
                    "name", _("Another school of this county already has this name (code %(code)s).") % {"code": other}
                )
            if row["town"]:
                town = self.towns.get((county.pk, row["town"]))
                if town is None:
                    self.error(
                        "town",
                        _("%(county)s has no town “%(town)s”; write the town's name as the schools list shows it.")
                        % {"county": county.name, "town": row["town"]},
                    )
            if row["village"]:
                found = [
                    v
                    for v in self.villages.get((county.pk, row["village"]), [])
                    if town is None or v.town_id == town.pk
                ]
                if not found:
                    where = town.name if town else county.name
                    self.error(
                        "village",
                        _(
                            "%(where)s has no village “%(village)s”; write the village's name as the villages list shows it."
                        )
                        % {"where": where, "village": row["village"]},
                    )
                elif len(found) > 1:
                    self.error(
                        "village",
                        _("%(county)s has several villages called “%(village)s”; give the town too.")
                        % {"county": county.name, "village": row["village"]},
                    )
                else:
                    village = found[0]
                    town = town or village.town
        row.update(county_obj=county, town_obj=town, village_obj=village)

    def save(self, rows):
        created = updated = unchanged = 0
        for row in rows:
            values = {
                "name": row["name"],
                "county": row["county_obj"],
                "town": row["town_obj"],
                "village": row["village_obj"],
                "stage": row["stage"],
                "location": row["location"],
                "is_weak": row["is_weak"],
                "address": row["address"] or "",
                "pupils": row["pupils"] or 0,
            }
            school = self.existing.get(row["code"])
            if school is None:
                school = School(code=row["code"], **values)
                school.full_clean()
                school.save()
                created += 1
                continue
            changed = [k for k, v in values.items() if getattr(school, k) != v]
            if not changed:
                unchanged += 1
                continue
            for k in changed:
                setattr(school, k, values[k])
            school.save(update_fields=[*changed, "updated_at"])
            updated += 1
        return created, updated, unchanged
