#!/usr/bin/env python3
"""The draw method of jinpin's supervision (督查抽查), and its verification. Standard library only.

jinpin imports its draw from this file, and an auditor runs the very same file without jinpin:

    python3 inspections/verify_draw.py draw-123.json

where ``draw-123.json`` is the record downloaded from the draw's page. The script prints the
per-stratum counts and says whether the record's population hash and sample are re-computed
exactly (exit status 0) or not (exit status 1).

The method, ``sha256-stratified-v1`` (a spreadsheet can do it too):

1. The population is a list of ``(stratum, id)`` pairs -- for households the stratum is the
   village code, for payments ``county code/scheme code``, for departments one stratum ``""``.
   Canonical order: by stratum (as text, code-point order), then by id (as a number).
   ``population_hash`` = SHA-256 of the UTF-8 text made of one line ``stratum,id\\n`` per pair.
2. Each id gets the key SHA-256(seed ‖ "|" ‖ id) -- the hex digest of the UTF-8 text
   ``f"{seed}|{id}"``. Within a stratum the ids are ordered by key (then id) and the first k taken.
3. k for a stratum of n: with ``count`` given, k = min(n, count) (one stratum, e.g. departments);
   otherwise k = min(n, max(minimum, round_half_up(n × rate))), with n × rate computed exactly
   (the rate is a decimal string such as "0.1069") and halves rounded up: 104 × 0.1069 = 11.1176 → 11,
   z × rate = 2.5 → 3, and every stratum gets at least ``minimum`` (村村拍照: minimum 1).
4. The sample is the drawn pairs, stratum by stratum in canonical stratum order, each stratum's
   in key order; ``sample_hash`` = SHA-256 of its ``stratum,id\\n`` lines.
"""

from __future__ import annotations

import hashlib
import json
import sys
from fractions import Fraction
from itertools import groupby
from operator import itemgetter

METHOD = "sha256-stratified-v1"


def canonical(population):
    """The population as ``[(stratum, id), ...]`` in canonical order (ids as ints, strata as str)."""
    return sorted((str(s), int(i)) for s, i in population)


def pairs_hash(pairs) -> str:
    return hashlib.sha256("".join(f"{s},{i}\n" for s, i in pairs).encode()).hexdigest()


def key(seed: str, ident: int) -> str:
    return hashlib.sha256(f"{seed}|{ident}".encode()).hexdigest()


def quota(n: int, params: dict) -> int:
    """How many to take from a stratum of ``n`` (step 3 above)."""
    return _quota(params)(n)


def _quota(params: dict):
    if params.get("count") is not None:
        count = int(params["count"])
        return lambda n: min(n, count)
    rate = Fraction(str(params["rate"]))
    minimum = int(params.get("minimum", 0))
    p, q = rate.numerator, rate.denominator
    # n × rate exactly, rounded half up: floor(n·p/q + 1/2) = (2·n·p + q) // (2·q), in integers
    return lambda n: min(n, max(minimum, (2 * n * p + q) // (2 * q)))


def stratified_draw(population, seed: str, params: dict) -> dict:
    """Draw from ``population`` (any order). Returns the canonical population, its hash,
    the sample, its hash and per-stratum ``[stratum, n, k]``."""
    return _draw(canonical(population), str(seed), params)


def _draw(pop, seed: str, params: dict) -> dict:
    sample, strata = [], []
    quota_of = _quota(params)
    prefix = hashlib.sha256(f"{seed}|".encode())  # key(seed, id) = this hasher fed the id's digits
    copy = prefix.copy
    for stratum, members in groupby(pop, key=itemgetter(0)):
        keyed = []
        for _s, i in members:
            h = copy()
            h.update(b"%d" % i)
            keyed.append((h.digest(), i))  # the digest's bytes sort as its hex text does
        k = quota_of(len(keyed))
        keyed.sort()
        sample.extend((stratum, i) for _d, i in keyed[:k])
        strata.append([stratum, len(keyed), k])
    return {
        "population": pop,
        "population_hash": pairs_hash(pop),
        "sample": sample,
        "sample_hash": pairs_hash(sample),
        "strata": strata,
    }


#: what ``verify`` may note, as English text (jinpin shows the same notes translated, by code)
NOTES = {
    "method": "unknown method {method}",
    "order": "the population is not in canonical order",
    "population_hash": "population hash differs: recorded {recorded}, computed {computed}",
    "sample": "sample differs: {missing} expected but not recorded, {extra} recorded but not expected",
    "sample_hash": "sample hash differs",
    "summary": "{strata} strata, population {population}, sample {sample}, effective rate {rate}",
}


def check(record: dict) -> tuple[bool, list[tuple[str, dict]]]:
    """Re-compute a draw record; ``(ok, notes)`` with each note a ``(code, values)`` pair of ``NOTES``.
    The stored population must hash to the recorded hash, and the draw from it must give exactly
    the recorded sample."""
    notes = []
    ok = True
    if record.get("method", METHOD) != METHOD:
        return False, [("method", {"method": repr(record.get("method"))})]
    given = [(str(s), int(i)) for s, i in record["population"]]
    pop = sorted(given)
    if pop != given:
        ok = False
        notes.append(("order", {}))
    got = _draw(pop, str(record["seed"]), record["params"])
    if got["population_hash"] != record["population_hash"]:
        ok = False
        notes.append(("population_hash", {"recorded": record["population_hash"], "computed": got["population_hash"]}))
    recorded_sample = [(str(s), int(i)) for s, i in record["sample"]]
    if got["sample"] != recorded_sample:
        ok = False
        missing = set(got["sample"]) - set(recorded_sample)
        extra = set(recorded_sample) - set(got["sample"])
        notes.append(("sample", {"missing": len(missing), "extra": len(extra)}))
    if record.get("sample_hash") and got["sample_hash"] != record["sample_hash"]:
        ok = False
        notes.append(("sample_hash", {}))
    total = sum(k for _s, _n, k in got["strata"])
    notes.append(
        (
            "summary",
            {
                "strata": len(got["strata"]),
                "population": len(pop),
                "sample": total,
                "rate": f"{total / len(pop):.2%}" if pop else "-",
            },
        )
    )
    return ok, notes


def verify(record: dict) -> tuple[bool, list[str]]:
    """``check`` with its notes as English text (what this script prints)."""
    ok, notes = check(record)
    return ok, [NOTES[code].format(**values) for code, values in notes]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        record = json.load(f)
    ok, messages = verify(record)
    for m in messages:
        print(m)
    print("MATCH: the record re-computes exactly" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
