"""The draw method itself (inspections/verify_draw.py): reproducible, seed-dependent, verifiable,
rounded as documented, and runnable without Django."""

import json
import random
import subprocess
import sys
from pathlib import Path

from inspections.verify_draw import canonical, quota, stratified_draw, verify

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"rate": "0.1069", "minimum": 1}


def population(villages=40, seed=1):
    rnd = random.Random(seed)
    pop = []
    ident = 1000
    for v in range(villages):
        for _ in range(rnd.randint(1, 150)):
            ident += rnd.randint(1, 3)
            pop.append((f"370830{v:06d}", ident))
    rnd.shuffle(pop)
    return pop


def test_same_seed_same_sample_whatever_the_input_order():
    pop = population()
    a = stratified_draw(pop, "20161024", PARAMS)
    b = stratified_draw(list(reversed(pop)), "20161024", PARAMS)
    assert a["sample"] == b["sample"] and a["population_hash"] == b["population_hash"]


def test_another_seed_gives_another_sample_of_the_same_size():
    pop = population()
    a = stratified_draw(pop, "20161024", PARAMS)
    b = stratified_draw(pop, "20161025", PARAMS)
    assert len(a["sample"]) == len(b["sample"])
    assert a["sample"] != b["sample"]
    assert a["sample_hash"] != b["sample_hash"]


def test_every_stratum_gets_at_least_one_and_totals_follow_half_up_rounding():
    pop = population(villages=60)
    got = stratified_draw(pop, "x", PARAMS)
    sizes = {}
    for s, _i in pop:
        sizes[s] = sizes.get(s, 0) + 1
    assert len(got["strata"]) == len(sizes)
    for stratum, n, k in got["strata"]:
        assert n == sizes[stratum]
        assert k >= 1
        # the documented rule, written out independently with integers: floor(n*1069/10000 + 1/2)
        assert k == min(n, max(1, (2 * n * 1069 + 10000) // 20000))
    assert len(got["sample"]) == sum(k for _s, _n, k in got["strata"])
    drawn = {}
    for s, _i in got["sample"]:
        drawn[s] = drawn.get(s, 0) + 1
    assert all(drawn[s] == k for s, _n, k in got["strata"])


def test_rounding_edges():
    assert quota(104, PARAMS) == 11  # 11.1176
    assert quota(5, {"rate": "0.5", "minimum": 0}) == 3  # 2.5 rounds half up
    assert quota(3, PARAMS) == 1  # 0.32 → 0, raised to the minimum
    assert quota(0, PARAMS) == 0
    assert quota(20, {"count": 5}) == 5 and quota(3, {"count": 5}) == 3


def test_quota_is_decimal_half_up_rounding_for_any_size_and_rate():
    """The integer arithmetic of ``quota`` against the rule done another way: decimal n × rate, rounded
    half up by ``decimal`` itself, then the minimum and the size."""
    from decimal import ROUND_HALF_UP, Decimal

    for rate in ("0.1069", "0.5", "0.25", "0.125", "0.333", "0.05", "0.0001", "1", "0"):
        for minimum in (0, 1, 2):
            for n in [*range(0, 400), 9_999, 10_000, 123_457, 3_000_001]:
                expected = int((Decimal(n) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                assert quota(n, {"rate": rate, "minimum": minimum}) == min(n, max(minimum, expected)), (rate, n)


def test_record_verifies_and_tampering_fails():
    pop = population()
    got = stratified_draw(pop, "778899", PARAMS)
    record = {"method": "sha256-stratified-v1", "params": PARAMS, "seed": "778899", **got}
    record = json.loads(json.dumps(record))
    ok, _ = verify(record)
    assert ok
    tampered = json.loads(json.dumps(record))
    tampered["population"][3][1] += 1  # one id changed after the draw
    ok, notes = verify(tampered)
    assert not ok and any("population hash" in n for n in notes)
    dropped = json.loads(json.dumps(record))
    dropped["sample"][0] = dropped["sample"][-1]
    assert not verify(dropped)[0]
    other_seed = dict(record, seed="778898")
    assert not verify(other_seed)[0]


def test_the_script_runs_without_django(tmp_path):
    pop = canonical(population())
    got = stratified_draw(pop, "42", PARAMS)
    path = tmp_path / "draw.json"
    path.write_text(json.dumps({"method": "sha256-stratified-v1", "params": PARAMS, "seed": "42", **got}))
    env = {"PATH": "/usr/bin:/bin"}  # no DJANGO_SETTINGS_MODULE, no virtualenv
    run = subprocess.run(
        [sys.executable, "-I", str(ROOT / "inspections" / "verify_draw.py"), str(path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "MATCH" in run.stdout
    got["sample"] = got["sample"][1:]
    path.write_text(json.dumps({"method": "sha256-stratified-v1", "params": PARAMS, "seed": "42", **got}))
    run = subprocess.run(
        [sys.executable, "-I", str(ROOT / "inspections" / "verify_draw.py"), str(path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 1 and "MISMATCH" in run.stdout


def test_the_fast_path_is_the_documented_method():
    """Each stratum's sample is its ids ordered by the hex SHA-256 of "seed|id" (as a spreadsheet does it)."""
    from inspections.verify_draw import key

    pop = population(villages=8, seed=3)
    got = stratified_draw(pop, "0537", PARAMS)
    by_stratum = {}
    for s, i in canonical(pop):
        by_stratum.setdefault(s, []).append(i)
    expected = []
    for s, ids in sorted(by_stratum.items()):
        k = quota(len(ids), PARAMS)
        expected.extend((s, i) for i in sorted(ids, key=lambda i: (key("0537", i), i))[:k])
    assert got["sample"] == expected
