"""The draw of ``verify_draw.py`` computed inside PostgreSQL, for populations of hundreds of thousands.

Same method, same result (``tests/inspections/test_sqldraw.py`` compares the two), and the
population never travels to Python: it is read once into a temporary table (the registry query
runs once), then

* its strata are counted (``GROUP BY``, a few thousand rows back) and k per stratum is computed
  by ``verify_draw._quota`` itself;
* its canonical order is ``stratum COLLATE "C", id`` (byte order of UTF-8 = code-point order,
  which is how Python sorts the strings): the ``stratum,id\\n`` lines are hashed in that order
  by PostgreSQL's ``sha256()`` over ``string_agg``; the table is written in that order, so the
  ``ORDER BY`` of the hash and of the stored ids (kept: they are what guarantees the order) finds
  its input already sorted;
* within each stratum the rows are numbered by ``sha256(seed || '|' || id)`` then id -- bytea
  compares byte by byte as Python compares the digests -- and the first k kept;
* ``write_population(draw_id)`` stores the ids in canonical order as a ``bigint[]`` straight from
  the temporary table (the runs of strata are the counts above): a compact record, lz4-compressed
  where the server has lz4.

The record is then verified by ``verify_draw.py`` exactly as before (pure Python, no jinpin).
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction

from .verify_draw import _quota, pairs_hash

POP = "inspections_draw_population"


def draw(rows, seed: str, params: dict) -> dict:
    """Draw from ``rows`` (a queryset of ``(stratum, id)`` rows, or ``(sql, params)``). Must run in a
    transaction (the population table is dropped at commit); ``write_population(draw_id)`` then stores
    it in the draw's record. Four statements, whatever the size."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sqldraw.draw runs inside a transaction")
    if isinstance(rows, tuple):
        sql, qparams = rows
    else:
        try:
            sql, qparams = rows.query.sql_with_params()
        except EmptyResultSet:  # e.g. a group with no county assigned: an empty population
            sql, qparams = "SELECT NULL::text, NULL::bigint WHERE false", ()
    quota_of = _quota(params)
    with connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")  # the sorts below stay in memory
        cur.execute(f"DROP TABLE IF EXISTS {POP}")
        # one process: a parallel plan of the registry query repeats its status subquery in every worker (three
        # times the CPU for a quarter less wall time on 2 cores, measured), and the machine serves others too
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute(
            f'CREATE TEMP TABLE {POP} ON COMMIT DROP AS SELECT q.s::text COLLATE "C" AS stratum, q.i::bigint AS id '
            f"FROM ({sql}) AS q(s, i) ORDER BY 1, 2",  # written in canonical order: the sorts below find it so
            qparams,
        )
        cur.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
        cur.execute(f"SELECT stratum, count(*) FROM {POP} GROUP BY stratum ORDER BY stratum")
        strata = [[st, n, quota_of(n)] for st, n in cur.fetchall()]
        # the population hash: SHA-256 of the UTF-8 lines "stratum,id\n" in canonical order
        cur.execute(
            "SELECT encode(sha256(convert_to("
            f"coalesce(string_agg(stratum || ',' || id || E'\\n', '' ORDER BY stratum, id), ''), 'UTF8')), 'hex') FROM {POP}"
        )
        population_hash = cur.fetchone()[0]
        # the sample comes back as (stratum's position, id): two integers a row, not the stratum's text
        cur.execute(
            "SELECT q.n, p.id FROM ("
            " SELECT stratum, id, row_number() OVER ("
            "  PARTITION BY stratum ORDER BY sha256(convert_to(%s || id::text, 'UTF8')), id) AS rn"
            f" FROM {POP}) p"
            " JOIN unnest(%s::text[], %s::int[]) WITH ORDINALITY AS q(stratum, k, n) ON q.stratum = p.stratum"
            " WHERE p.rn <= q.k ORDER BY p.stratum, p.rn",
            [f"{seed}|", [s for s, _n, _k in strata], [k for _s, _n, k in strata]],
        )
        sample = [(strata[n - 1][0], i) for n, i in cur.fetchall()]
    return {
        "population_runs": [[s, n] for s, n, _k in strata],
        "population_size": sum(n for _s, n, _k in strata),
        "population_hash": population_hash,
        "sample": sample,
        "sample_hash": pairs_hash(sample),
        "strata": strata,
    }


def write_population(draw_id: int) -> None:
    """Store the population that ``draw`` read (in this transaction) in the draw's record: its ids in
    canonical order, straight from the temporary table."""
    from .models import Draw

    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Draw._meta.db_table} SET population_ids = coalesce("
            f"(SELECT array_agg(id ORDER BY stratum, id) FROM {POP}), '{{}}') WHERE id = %s",
            [draw_id],
        )


def freeze_households(draw_id: int, date) -> int:
    """Create the drawn items of a household draw in one ``INSERT … SELECT``: each drawn household
    with its snapshot as the registry read it on ``date`` (its status in force that day, found
    through the ``hh_status_in_force`` index). Returns the number of items created."""
    from schools.models import County, Town, Village
    from subsidies.models import Household, HouseholdStatus

    from .models import Draw, DrawItem

    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {DrawItem._meta.db_table}
                (draw_id, position, stratum, object_id, household_id, village_id, county_id, snapshot)
            SELECT d.id, s.ord - 1, s.e->>0, h.id, h.id, h.village_id, v.county_id,
                jsonb_build_object(
                    'number', h.number, 'head_name', h.head_name, 'members', h.members,
                    'is_dibao', h.is_dibao, 'is_tekun', h.is_tekun, 'status', st.status,
                    'village_id', h.village_id, 'village_code', v.code, 'village', v.name,
                    'town', t.name, 'county_id', v.county_id, 'county', c.name)
            FROM {Draw._meta.db_table} d
            CROSS JOIN LATERAL jsonb_array_elements(d.sample) WITH ORDINALITY AS s(e, ord)
            JOIN {Household._meta.db_table} h ON h.id = (s.e->>1)::bigint
            JOIN {Village._meta.db_table} v ON v.id = h.village_id
            JOIN {Town._meta.db_table} t ON t.id = v.town_id
            JOIN {County._meta.db_table} c ON c.id = v.county_id
            LEFT JOIN LATERAL (
                SELECT x.status FROM {HouseholdStatus._meta.db_table} x
                WHERE x.household_id = h.id AND x.effective_on <= %s
                ORDER BY x.effective_on DESC, x.id DESC LIMIT 1
            ) st ON true
            WHERE d.id = %s
            """,
            [date, draw_id],
        )
        return cur.rowcount


def poor_households(county_ids: list[int], date) -> tuple[str, list]:
    """The household population as SQL: the poor households of the counties on ``date`` (status in
    force that day), stratum = village code. Set-based (``DISTINCT ON`` over the status history of
    those counties' households) where ``Household.objects.poor_on`` asks one subquery per household:
    the same rows (``tests/inspections/test_sqldraw.py``), several times faster at 300,000."""
    from schools.models import Village
    from subsidies.models import Household, HouseholdStatus
    from subsidies.models.registry import POOR_STATUSES

    h, v, st = Household._meta.db_table, Village._meta.db_table, HouseholdStatus._meta.db_table
    # households joined to their status history in household order (both indexes give it: a merge join, and
    # DISTINCT ON needs no sort), the counties' villages hashed once
    sql = f"""
        SELECT v.code, s.household_id FROM (
            SELECT DISTINCT ON (x.household_id) x.household_id, x.status, h.village_id
            FROM {st} x JOIN {h} h ON h.id = x.household_id
            WHERE x.effective_on <= %s AND h.village_id IN (SELECT id FROM {v} WHERE county_id = ANY(%s))
            ORDER BY x.household_id, x.effective_on DESC, x.id DESC
        ) s
        JOIN {v} v ON v.id = s.village_id
        WHERE s.status = ANY(%s)"""
    return sql, [date, list(county_ids), [str(x) for x in POOR_STATUSES]]
