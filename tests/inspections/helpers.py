from inspections import services
from jinpin.scope import get_scope

PARAMS = {"rate": "0.1069", "minimum": 1, "rounding": "half_up"}


def confirmed_draw(sv, seed="20161024"):
    d = services.draw_propose(
        group=sv.group,
        kind="households",
        params=PARAMS,
        seed=seed,
        acting_user=sv.inspector,
        scope=get_scope(sv.inspector),
    )
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    return d
