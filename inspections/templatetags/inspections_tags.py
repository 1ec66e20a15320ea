from django import template

register = template.Library()


@register.filter
def stratum(code):
    """``{{ item.stratum|stratum }}``: a stratum code (a village code, or ``county code/scheme code``) as
    the names it stands for -- 汶上县 · 寄宿生生活补助. One query per part; for one item, not a list."""
    from schools.models import County, Village
    from subsidies.models import Scheme

    names = []
    for part in str(code or "").split("/"):
        name = (
            County.objects.filter(code=part).values_list("name", flat=True).first()
            or Scheme.objects.filter(code=part).values_list("name", flat=True).first()
            or Village.objects.filter(code=part).values_list("name", flat=True).first()
        )
        names.append(name or part)
    return " · ".join(names)
