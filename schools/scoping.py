"""How the registry's models are scoped (registered with jinpin.scope at start-up)."""

from jinpin import scope
from jinpin.scope import Role

from .models import County, School, Town, Village

OFFICERS = {Role.CITY_ADMIN, Role.COUNTY_OFFICER}


def _counties(s, qs):
    if s.city_wide or s.is_inspector:
        return qs
    if s.county_id:
        return qs.filter(pk=s.county_id)
    return qs.none()


def register_all():
    scope.register(County, rows=_counties, write={Role.CITY_ADMIN})
    scope.register(Town, rows=scope.by_county("county_id"), write=OFFICERS)
    scope.register(Village, rows=scope.by_county("county_id"), write=OFFICERS)
    scope.register(School, rows=scope.by_county("county_id", "pk"), write=OFFICERS)
