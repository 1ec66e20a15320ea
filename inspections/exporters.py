"""Excel report of 督查抽查: the campaign summary per village, then every draw record with its
population and sample, so a reader can re-run each draw from the file alone (see verify_draw.py)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jinpin import exports
from jinpin.exports import Column
from jinpin.scope import Role

from . import selectors
from .models import Campaign, Draw


@exports.register
class CampaignSummaryExporter(exports.Exporter):
    """现场督察结束后汇总: per village, then the draw records (method, parameters, seed, hashes) and each
    draw's population as ``stratum, id, drawn``."""

    identifier = "inspections.summary"
    verbose_name = gettext_lazy("Supervision campaign summary")
    columns = [
        Column(gettext_lazy("Section"), 14),
        Column(gettext_lazy("County"), 10),
        Column(gettext_lazy("Town"), 14),
        Column(gettext_lazy("Village / stratum"), 22),
        Column(gettext_lazy("Drawn"), 8, "int"),
        Column(gettext_lazy("Checked"), 8, "int"),
        Column(gettext_lazy("Not found"), 8, "int"),
        Column(gettext_lazy("Photos"), 8, "int"),
        Column(gettext_lazy("Detail"), 60),
    ]

    @classmethod
    def permission(cls, scope, params) -> bool:
        if scope.role not in (Role.CITY_ADMIN, Role.AUDITOR, Role.INSPECTOR, Role.COUNTY_OFFICER):
            return False
        return scope.filter(Campaign).filter(pk=params.get("campaign")).exists()

    def campaign(self):
        return self.scope.filter(Campaign).get(pk=self.params["campaign"])

    def rows(self):
        campaign = self.campaign()
        s = selectors.summary(self.scope, campaign)
        sec = _("Village")
        for v in s.by_village:
            yield (
                sec,
                v["county__name"],
                v["village__town__name"],
                v["village__name"],
                v["drawn"],
                v["checked"],
                v["not_found"],
                v["photos"],
                "",
            )
        yield (
            _("Total"),
            "",
            "",
            "",
            s.drawn,
            s.checked,
            s.not_found,
            s.villages_photographed,
            _("population %(p)s, rate %(r)s") % {"p": s.population, "r": f"{s.rate:.4f}"},
        )
        for f in s.failures:
            yield (
                _("Checklist item"),
                "",
                "",
                f["item__label"],
                f["total"],
                None,
                None,
                None,
                _("failed %(n)s") % {"n": f["failed"]},
            )
        for r in s.by_category:
            yield (_("Findings by category"), "", "", r["category__name"], r["n"], None, None, None, "")
        for r in s.by_county:
            yield (
                _("Findings by county"),
                r["county__name"],
                "",
                "",
                r["n"],
                None,
                None,
                None,
                _("open %(n)s") % {"n": r["open"]},
            )
        draws = self.scope.filter(Draw).filter(group__campaign=campaign).order_by("pk")
        for d in draws.select_related("group").defer("population_runs", "population_ids", "sample"):
            yield (
                _("Draw record"),
                "",
                d.group.name,
                f"#{d.pk} {d.get_kind_display()}",
                d.sample_size,
                None,
                None,
                None,
                f"status={d.status} method={d.method} params={d.params} seed={d.seed} "
                f"population={d.population_size} population_sha256={d.population_hash} "
                f"sample_sha256={d.sample_hash} filters={d.filters} reason={d.reason}",
            )
        for d in draws.only("pk", "population_runs", "population_ids", "sample"):
            drawn = {(str(s), int(i)) for s, i in d.sample}
            sec = _("Population of draw #%(pk)s") % {"pk": d.pk}
            for stratum, ident in d.population:
                yield (
                    sec,
                    "",
                    "",
                    str(stratum),
                    int(ident),
                    None,
                    None,
                    None,
                    _("drawn") if (str(stratum), int(ident)) in drawn else "",
                )
