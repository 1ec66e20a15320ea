"""Search at city scale: a pupil, teacher or household by part of a name or the last digits of an ID.

Runs the searches the list pages run (``jinpin.search.people``, the same arguments as the pupil,
household and teacher lists) on an existing database built with ``seed_demo --scale 10``
(1,004,556 pupils, 301,902 households, 103,847 teachers) and times the first page of matches
(50 rows, what a list shows) and whether anything matched: the median and the worst of ``--runs``
runs of each, after one warming run. Target: under 50 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jinpin_scale10 .venv/bin/python benchmarks/bench_search.py
"""

import argparse
import statistics
import time

from _util import django_setup


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    django_setup()
    from django.db.models import Q

    from jinpin import search
    from subsidies.models import Household, Student
    from teachers.models import Teacher

    def pupils(q):
        return search.people(Student.objects.order_by("pk"), q)

    def households(q):
        # as the households page: the matches' ids first (up to 10,000), then their page in number order
        matches = search.people(
            Household.objects.all(), q, name="head_name", id_number="head_id_number", also=Q(number__startswith=q)
        )
        ids = list(matches.order_by().values_list("pk", flat=True)[:10_001])
        if len(ids) > 10_000:
            return matches.order_by("number")
        return Household.objects.filter(pk__in=ids).order_by("number")

    def teachers(q):
        return search.people(Teacher.objects.order_by("pk"), q)

    # real values from the data: a name's middle, a rare and a common surname, the last digits of an ID
    mid_pupil = Student.objects.order_by("-pk").values_list("name", "id_number")[1234]
    mid_teacher = Teacher.objects.order_by("-pk").values_list("name", "id_number")[567]
    household = Household.objects.order_by("-pk").values_list("head_name", "number")[4321]
    cases = [
        ("pupil", "part of a name (5 characters)", pupils, mid_pupil[0][1:6]),
        ("pupil", "part of a name (3 characters)", pupils, mid_pupil[0][1:4]),
        ("pupil", "a surname (1 character)", pupils, "孔"),
        ("pupil", "a given name (2 characters)", pupils, "子涵"),
        ("pupil", "last 4 digits of the ID", pupils, mid_pupil[1][-4:]),
        ("pupil", "last 6 digits of the ID", pupils, mid_pupil[1][-6:]),
        ("pupil", "a name nobody has", pupils, "无此人名"),
        ("teacher", "part of a name", teachers, mid_teacher[0][1:5]),
        ("teacher", "a surname (1 character)", teachers, "王"),
        ("teacher", "last 6 digits of the ID", teachers, mid_teacher[1][-6:]),
        ("household", "part of the head's name", households, household[0][1:6]),
        ("household", "a surname (1 character)", households, "李"),
        ("household", "start of the household number", households, household[1][:-2]),
    ]
    print(
        f"{Student.objects.count():,} pupils, {Household.objects.count():,} households, {Teacher.objects.count():,} teachers"
    )
    print(f"{'who':<10} {'by':<32} {'query':<20} {'rows':>5} {'median ms':>9} {'worst ms':>8}")
    for who, by, fn, q in cases:
        list(fn(q)[:50])
        times = []
        for _i in range(args.runs):
            t0 = time.perf_counter()
            rows = list(fn(q)[:50])
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{who:<10} {by:<32} {q:<20} {len(rows):>5} {statistics.median(times):>9.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()
