"""Excel export: jinpin's writer (XlsxWriter constant_memory) against raw openpyxl write-only (the
writer it replaced) on the same pre-built rows, and its peak memory at 100,000 and 1,000,000 rows
(each measurement in its own process). Issue 14's target: at least 1.5x openpyxl write-only.

    .venv/bin/python benchmarks/bench_export.py            # 200k speed comparison + 100k/1M memory
    .venv/bin/python benchmarks/bench_export.py --quick    # 50k rows, 100k/300k memory
"""

import datetime as dt
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import django_setup, in_child, own_peak_mb  # noqa: E402

COLUMNS = [
    ("ID", "text"),
    ("姓名", "text"),
    ("学校", "text"),
    ("县", "text"),
    ("学段", "text"),
    ("年级", "int"),
    ("金额", "money"),
    ("日期", "date"),
    ("状态", "text"),
    ("备注", "text"),
    ("序号", "int"),
    ("批次", "text"),
]


def rows(n):
    d = dt.date(2016, 9, 1)
    for i in range(n):
        yield (
            f"3708302008{i:08d}",
            f"学生{i}",
            f"汶上县第{i % 500}小学",
            "汶上县",
            "小学",
            i % 6 + 1,
            Decimal("1000.00") + i % 7,
            d,
            "已发放",
            "=cmd" if i % 1000 == 0 else "",
            i,
            "2016-A",
        )


def child(mode, n):
    django_setup()
    from openpyxl import Workbook

    from jinpin.exports import Column, write_xlsx

    out = Path(tempfile.mkdtemp()) / "x.xlsx"
    t0 = time.perf_counter()
    if mode == "raw":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("s")
        ws.append([c for c, _ in COLUMNS])
        for r in rows(n):
            ws.append(r)
        wb.save(out)
    else:
        write_xlsx(out, [Column(h, 14, k) for h, k in COLUMNS], rows(n), sheet_title="s")
    seconds = time.perf_counter() - t0
    size = os.path.getsize(out)
    os.unlink(out)
    print(json.dumps({"mode": mode, "rows": n, "seconds": round(seconds, 2), "peak_mb": own_peak_mb(), "bytes": size}))


def main():
    quick = "--quick" in sys.argv
    speed_n = 50_000 if quick else 200_000
    mem_ns = (100_000, 300_000) if quick else (100_000, 1_000_000)
    me = __file__
    # alternate the two, three times each, and compare medians (the machine is noisy)
    raws, ours = [], []
    for _ in range(3):
        raws.append(in_child(me, "child", "raw", speed_n)["seconds"])
        ours.append(in_child(me, "child", "jinpin", speed_n)["seconds"])
    raw_s, our_s = sorted(raws)[1], sorted(ours)[1]
    print(f"export {speed_n:,} rows x 12 cols, median of 3: raw openpyxl write-only {raw_s} s, jinpin writer {our_s} s")
    print(f"speed-up (openpyxl write-only time / jinpin time): {raw_s / our_s:.2f}  (target >= 1.5)")
    for n in mem_ns:
        r = in_child(me, "child", "jinpin", n)
        print(f"jinpin writer {n:>9,} rows: {r['seconds']} s, peak memory {r['peak_mb']} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
