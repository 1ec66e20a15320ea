"""Excel import: parse a 50,000-row roster with jinpin's import base (safety checks + calamine)
against bare python-calamine, then validate every row (no database writes).

    .venv/bin/python benchmarks/bench_import.py [rows]
"""

import datetime as dt
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import django_setup  # noqa: E402

django_setup()

import python_calamine  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from jinpin import idcard, imports  # noqa: E402
from jinpin.imports import Col, Importer  # noqa: E402
from schools.models import Stage  # noqa: E402


class RosterImporter(Importer):
    """A student roster shaped like the subsidies import: IDs, names, dates, codes, choices."""

    identifier = "bench.roster"
    verbose_name = "roster"
    natural_key = ("id_number",)
    columns = [
        Col("id_number", "身份证号", "id_number"),
        Col("name", "姓名", "text", max_length=50),
        Col("school", "学校标识码", "code", max_length=10),
        Col("stage", "学段", "choice", choices=Stage),
        Col("grade", "年级", "int"),
        Col("enrolled", "入学日期", "date"),
        Col("boarder", "寄宿", "bool"),
        Col("household", "户编号", "code", required=False, max_length=20),
    ]

    def clean_row(self, row):
        try:
            idcard.parse(row["id_number"])
        except Exception as exc:  # noqa: BLE001
            self.error("id_number", str(exc))

    def save(self, rows):
        return (len(rows), 0, 0)


def build(n):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("roster")
    ws.append([str(c.header) for c in RosterImporter.columns])
    for i in range(n):
        ws.append(
            [
                idcard.make(
                    f"3708{i // 300000 + 30:02d}",
                    dt.date(2008, 1, 1) + dt.timedelta(days=i % 3000),
                    (i // 3000) * 2 + i % 2,
                    "MF"[i % 2],
                ),
                f"学生{i}",
                f"08300{i % 500:05d}",
                "小学",
                i % 6 + 1,
                dt.datetime(2016, 9, 1),
                "是" if i % 3 else "否",
                f"H{i // 3:08d}",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    data = build(n)
    times = {"calamine": [], "jinpin_parse": [], "jinpin_validate": []}
    for _ in range(3):
        t0 = time.perf_counter()
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = wb.get_sheet_by_index(0).to_python()
        times["calamine"].append(time.perf_counter() - t0)
        assert len(rows) == n + 1
        t0 = time.perf_counter()
        header, parsed = imports.read_rows(io.BytesIO(data))
        times["jinpin_parse"].append(time.perf_counter() - t0)
        assert len(parsed) == n  # rows as calamine gives them (empty ones are skipped during validation)
        t0 = time.perf_counter()
        report, _ = imports.validate(RosterImporter(scope=None, user=None), SimpleUploadedFile("r.xlsx", data))
        times["jinpin_validate"].append(time.perf_counter() - t0)
        assert report.ok, (report.file_error, report.errors[:3])
    med = {k: sorted(v)[1] for k, v in times.items()}
    print(f"{n:,}-row roster ({len(data) / 2**20:.1f} MB), median of 3:")
    print(f"  python-calamine alone:              {med['calamine']:.2f} s")
    print(
        f"  jinpin parse (safety + calamine):   {med['jinpin_parse']:.2f} s  ratio {med['jinpin_parse'] / med['calamine']:.2f} (target <= 1.5)"
    )
    print(
        f"  jinpin parse + validate every row:  {med['jinpin_validate']:.2f} s  ratio {med['jinpin_validate'] / med['calamine']:.2f}"
    )


if __name__ == "__main__":
    main()
