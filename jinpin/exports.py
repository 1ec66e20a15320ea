"""The export mechanism every report uses.

A report is one ``Exporter`` subclass, registered with ``@exports.register``:

    @exports.register
    class SchoolExporter(Exporter):
        identifier = "schools.schools"
        verbose_name = _("Schools")
        columns = [Column(_("Code"), 14), Column(_("Name"), 30), ...]

        def rows(self):          # yields tuples, one per row, in column order
            for s in self.queryset().iterator(chunk_size=2000): ...

``self.scope`` is the scope of the person who started the export, rebuilt in
the worker; ``self.params`` are plain data (usually the list page's filters).
``exports.start(request, identifier, params)`` queues it as a job; the worker
streams the rows into an openpyxl write-only workbook (constant memory):
Chinese headers in bold, a frozen header row, column widths, number and date
formats, and text that begins with ``= + - @``, tab or CR written as a string
cell so that Excel never evaluates it. A sheet holds at most 1,048,576 rows;
longer results continue on further sheets with the header repeated.

Files land under ``PRIVATE_ROOT`` (no public URL) and are served only by
``jinpin.views.job_download`` to the person who started the job, until they
expire.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import jobs

EXCEL_MAX_ROWS = 1_048_576
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    kind: str = "text"  # text | int | money | date | datetime | percent


class Exporter:
    identifier: str = ""
    verbose_name: str = ""
    columns: list[Column] = []
    #: who may run it: ``permission(scope, params) -> bool``; default: anyone with a role
    sheet_title: str = ""

    def __init__(self, scope, params: dict | None = None):
        self.scope = scope
        self.params = params or {}

    @classmethod
    def permission(cls, scope, params) -> bool:
        return scope.role is not None

    def title(self) -> str:
        return str(self.verbose_name)

    def filename(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.title()}-{stamp}.xlsx"

    def total(self) -> int | None:
        """Row count for the progress bar (optional; one COUNT query)."""
        return None

    def rows(self):
        raise NotImplementedError

    def extra_sheets(self) -> list[tuple[str, list[Column], list[tuple]]]:
        """Further (small) sheets after the rows: ``[(title, columns, rows)]``, e.g. a summary."""
        return []


_exporters: dict[str, type[Exporter]] = {}


def register(cls: type[Exporter]) -> type[Exporter]:
    _exporters[cls.identifier] = cls
    return cls


def start(request, identifier: str, params: dict | None = None):
    """Queue an export as a job for the requesting user; returns the Job."""
    cls = _exporters.get(identifier)
    if cls is None:
        raise PermissionDenied
    # parameters are stored as JSON in PostgreSQL, which refuses NUL characters: drop them
    params = {
        k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in (params or {}).items() if "\x00" not in k
    }
    title = _("Export: %(name)s") % {"name": cls.verbose_name}
    return jobs.start(
        kind="export",
        params={"exporter": identifier, "params": params, "language": translation.get_language()},
        title=title,
        request=request,
    )


def _permission(scope, params) -> bool:
    cls = _exporters.get(params.get("exporter"))
    return cls is not None and cls.permission(scope, params.get("params") or {})


def _run(job, scope, progress) -> jobs.JobResult:
    cls = _exporters[job.params["exporter"]]
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        exporter = cls(scope, job.params.get("params") or {})
        total = exporter.total()
        progress(0, total, force=True)
        target = jobs.result_dir() / f"{job.pk}.xlsx"
        n = write_xlsx(
            target,
            exporter.columns,
            exporter.rows(),
            sheet_title=exporter.sheet_title or exporter.title(),
            progress=progress,
            extra_sheets=exporter.extra_sheets(),
        )
        return jobs.JobResult(
            file_path=target, filename=exporter.filename(), rows=n, summary=_("%(n)s rows") % {"n": n}
        )


jobs.register("export", _run, permission=_permission)


# -- the writer ------------------------------------------------------------------
_LOCAL = ZoneInfo(settings.TIME_ZONE)


def write_xlsx(
    path, columns, rows, *, sheet_title="Sheet", progress=None, max_rows: int = EXCEL_MAX_ROWS, extra_sheets=()
) -> int:
    """Stream ``rows`` (an iterable of tuples) into an xlsx at ``path``. Returns the data row count.

    Memory stays flat: openpyxl's write-only mode with lxml writes each row to a
    temporary file as it comes. The file is written beside ``path`` and renamed
    into place, so a re-run after a crash never leaves a half file behind.
    """
    path = Path(path)
    wb = Workbook(write_only=True)
    per_sheet = max_rows - 1  # the header takes one row
    header_font = Font(bold=True)
    ws_ref = [None]  # the sheet being written (cells are created on it)
    convert = _row_converter(wb, ws_ref, columns)
    title = _sheet_title(sheet_title)

    def new_sheet(n):
        ws = wb.create_sheet(title if n == 1 else f"{title[:25]} ({n})")
        for i, c in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = c.width
        ws.freeze_panes = "A2"
        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, str(c.header))
            cell.font = header_font
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        ws.append(header)
        return ws

    sheet_no = 1
    ws = ws_ref[0] = new_sheet(sheet_no)
    written = in_sheet = 0
    for row in rows:
        if in_sheet == per_sheet:
            sheet_no += 1
            ws = ws_ref[0] = new_sheet(sheet_no)
            in_sheet = 0
        ws.append(convert(row))
        written += 1
        in_sheet += 1
        if progress is not None and not written % 1000:
            progress(written)
    for extra_title, extra_columns, extra_rows in extra_sheets:
        ws = wb.create_sheet(_sheet_title(extra_title))
        for i, c in enumerate(extra_columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = c.width
        header = []
        for c in extra_columns:
            cell = WriteOnlyCell(ws, str(c.header))
            cell.font = header_font
            header.append(cell)
        ws.append(header)
        ws_ref[0] = ws
        extra_convert = _row_converter(wb, ws_ref, extra_columns)
        for row in extra_rows:
            ws.append(extra_convert(row))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if progress is not None:
        progress(written, force=True)
    return written


def _sheet_title(title: str) -> str:
    bad = "[]:*?/\\"
    title = "".join("_" if ch in bad else ch for ch in str(title)).strip() or "Sheet"
    return title[:31]


def _row_converter(wb, ws_ref, columns):
    """A function turning one row (tuple) into what ``ws.append`` takes.

    Only what must change is touched: text that could be read as a formula, text with
    characters XML cannot hold, datetimes with a time zone, and money/date cells that
    carry a number format (a cell sharing a copied style array, which is cheap). Plain
    values pass straight through, which keeps the writer close to raw openpyxl speed.
    """
    scratch = wb.create_sheet("_styles")

    def style_of(**attrs):
        cell = WriteOnlyCell(scratch)
        for k, v in attrs.items():
            setattr(cell, k, v)
        return cell._style

    quoted = style_of(quotePrefix=True)
    # Dates and datetimes need no cell of ours: openpyxl gives them a date format itself
    # (yyyy-mm-dd, yyyy-mm-dd h:mm:ss); only aware datetimes are turned into local time.
    formats = {"money": MONEY_FORMAT, "percent": "0.00%"}
    styled = [(i, style_of(number_format=formats[c.kind])) for i, c in enumerate(columns) if c.kind in formats]
    wb.remove(scratch)
    moments = [i for i, c in enumerate(columns) if c.kind in ("date", "datetime")]
    text_cols = [i for i, c in enumerate(columns) if c.kind not in formats and c.kind not in ("date", "datetime")]

    def text(v):
        if not isinstance(v, str):
            if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                return v
            v = str(v)
        if not v.isprintable() and ILLEGAL_CHARACTERS_RE.search(v):
            v = ILLEGAL_CHARACTERS_RE.sub("", v)
        if v and v[0] in FORMULA_TRIGGERS:
            # A string cell with a quote prefix: Excel shows the text and never
            # evaluates it, even after the user edits the cell.
            cell = WriteOnlyCell(ws_ref[0])
            cell._value = v
            cell.data_type = "s"
            cell._style = copy(quoted)
            return cell
        return v

    def convert(row):
        row = list(row)
        for i in text_cols:
            v = row[i]
            if v is None:
                continue
            if v.__class__ is str:
                if v and (v[0] in FORMULA_TRIGGERS or not v.isprintable()):
                    row[i] = text(v)
            elif v.__class__ is not int:
                row[i] = text(v)
        for i in moments:
            v = row[i]
            if v.__class__ is dt.datetime and v.tzinfo is not None:
                row[i] = v.astimezone(_LOCAL).replace(tzinfo=None)
            elif v is not None and not isinstance(v, dt.date):
                row[i] = text(v)
        for i, style in styled:
            v = row[i]
            if v is None:
                continue
            if not isinstance(v, (Decimal, int, float)):
                row[i] = text(v)
                continue
            cell = WriteOnlyCell(ws_ref[0], v)
            cell._style = copy(style)
            row[i] = cell
        return row

    return convert
