"""Registry re-matching, as the provinces do weekly (Celery beat: ``subsidies.tasks.rematch_registry``).

Compares what the rules give today (the batch's own ``computed`` SQL, read-only) with the
period's awards, and lists pupils newly eligible, no longer eligible, or whose household
status on the decisive date differs from their award (eligibility, judged on the decisive
date), and awards whose household status has changed since the award up to today (a
household lifted out after the decisive date: today's status). One INSERT … SELECT;
nothing about the awards changes.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from ..models import Award, HouseholdStatus, MatchItem, MatchRun, Period, Student
from .batch import _t, computed_sql, schemes_for


def current_period():
    today = timezone.localdate()
    return (
        Period.objects.filter(starts_on__lte=today).order_by("-starts_on").first()
        or Period.objects.order_by("-starts_on").first()
    )


@transaction.atomic
def rematch(period: Period | None = None) -> MatchRun | None:
    period = period or current_period()
    if period is None:
        return None
    run = MatchRun.objects.create(period=period)
    rates = schemes_for(period)
    if not rates:
        return run
    params: list = []
    head = computed_sql(period=period, rates=rates, county_id=None, lo=None, hi=None, params=params)
    award, item, hs = _t(Award), _t(MatchItem), _t(HouseholdStatus)
    sql = f"""
    WITH {head},
    awarded AS MATERIALIZED (SELECT award.id, award.student_id, award.scheme_id, award.school_id, award.county_id, award.facts
                         FROM {award} award WHERE award.period_id = %s AND award.status NOT IN ('dropped', 'rejected'))
    INSERT INTO {item} (run_id, kind, student_id, scheme_id, award_id, school_id, county_id, was, now)
    SELECT %s, 'new', computed.student_id, computed.scheme_id, NULL, computed.school_id, computed.county_id, '', COALESCE(computed.facts->>'household_status', '')
      FROM computed LEFT JOIN awarded ON awarded.student_id = computed.student_id AND awarded.scheme_id = computed.scheme_id WHERE awarded.id IS NULL
    UNION ALL
    SELECT %s, 'gone', awarded.student_id, awarded.scheme_id, awarded.id, awarded.school_id, awarded.county_id, COALESCE(awarded.facts->>'household_status', ''), ''
      FROM awarded LEFT JOIN computed ON awarded.student_id = computed.student_id AND awarded.scheme_id = computed.scheme_id WHERE computed.student_id IS NULL
    UNION ALL
    SELECT %s, 'changed', awarded.student_id, awarded.scheme_id, awarded.id, awarded.school_id, awarded.county_id,
           COALESCE(awarded.facts->>'household_status', ''), COALESCE(computed.facts->>'household_status', '')
      FROM awarded JOIN computed ON awarded.student_id = computed.student_id AND awarded.scheme_id = computed.scheme_id
     WHERE (awarded.facts->>'household_status') IS DISTINCT FROM (computed.facts->>'household_status')
    UNION ALL
    -- since the award, up to today: listed when today's status differs from the award's and from the decisive
    -- date's (a difference already on the decisive date is reported by the rows above)
    SELECT %s, 'since', awarded.student_id, awarded.scheme_id, awarded.id, awarded.school_id, awarded.county_id,
           COALESCE(awarded.facts->>'household_status', ''), today.status
      FROM awarded JOIN {_t(Student)} student ON student.id = awarded.student_id
      JOIN LATERAL (SELECT history.status FROM {hs} history WHERE history.household_id = student.household_id AND history.effective_on <= %s
                    ORDER BY history.effective_on DESC, history.id DESC LIMIT 1) today ON TRUE
      LEFT JOIN LATERAL (SELECT history.status FROM {hs} history WHERE history.household_id = student.household_id AND history.effective_on <= %s
                         ORDER BY history.effective_on DESC, history.id DESC LIMIT 1) decisive ON TRUE
     WHERE today.status IS DISTINCT FROM (awarded.facts->>'household_status') AND today.status IS DISTINCT FROM decisive.status
    """
    today = timezone.localdate()
    with connection.cursor() as cur:
        cur.execute(sql, [*params, period.pk, run.pk, run.pk, run.pk, run.pk, today, period.decisive_date])
    counts = dict(
        MatchItem.objects.filter(run=run).values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    MatchRun.objects.filter(pk=run.pk).update(
        newly_eligible=counts.get("new", 0),
        no_longer_eligible=counts.get("gone", 0),
        status_changed=counts.get("changed", 0),
        changed_since_award=counts.get("since", 0),
    )
    run.refresh_from_db()
    return run
