"""The audit chain's cost: audit entries written in bulk (``audit.log_many``) with the chain trigger and
without it, the commit-time chaining itself, and verification throughput. Runs on DATABASE_URL inside
transactions that are rolled back (nothing is left behind); needs a superuser to switch the trigger off.

    .venv/bin/python benchmarks/bench_audit_chain.py [entries] [repeat]
"""

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import django_setup  # noqa: E402

django_setup()

from django.db import connection, transaction  # noqa: E402

from jinpin import audit, auditchain  # noqa: E402
from schools.models import County  # noqa: E402


class Rollback(Exception):
    pass


def one(n: int, chained: bool) -> dict:
    out = {}
    try:
        with transaction.atomic():
            county = County.objects.create(code="999999", name="基准县")
            with connection.cursor() as cur:
                if not chained:
                    cur.execute("SET LOCAL session_replication_role = replica")  # no trigger fires
            t0 = time.perf_counter()
            audit.log_many(
                County,
                [(county.pk, county.name, {"name": [f"旧{i}", f"新{i}"]}) for i in range(n)],
                action=audit.Action.UPDATE,
                actor=None,
                batch=1,
            )
            out["insert_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            auditchain.link_pending()  # what the commit would do
            out["chain_s"] = time.perf_counter() - t0
            if chained:
                t0 = time.perf_counter()
                res = auditchain.verify_chain()
                out["verify_s"] = time.perf_counter() - t0
                out["verified"] = res.checked
                assert res.ok
            raise Rollback
    except Rollback:
        pass
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    plain, chained = [], []
    for _ in range(repeat):  # alternating
        plain.append(one(n, False))
        chained.append(one(n, True))
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    result = {
        "entries": n,
        "log_many_without_chain_s": round(med(plain, "insert_s") + med(plain, "chain_s"), 3),
        "log_many_with_chain_s": round(med(chained, "insert_s") + med(chained, "chain_s"), 3),
        "of_which_commit_time_chaining_s": round(med(chained, "chain_s"), 3),
        "verify_entries": chained[0]["verified"],
        "verify_s": round(med(chained, "verify_s"), 3),
    }
    result["chain_overhead_ratio"] = round(result["log_many_with_chain_s"] / result["log_many_without_chain_s"], 2)
    result["verify_entries_per_s"] = round(result["verify_entries"] / result["verify_s"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
