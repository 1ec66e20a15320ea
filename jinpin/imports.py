"""The import base every spreadsheet upload goes through.

An importer declares its columns and how to save; this module does the rest:

1. **The file is checked before it is parsed**: size, that it is a real xlsx
   (zip with the workbook parts; not .xls, .csv or .xlsm), entry count and
   total uncompressed size (zip bombs), no macros, and no DTD or entity
   declaration in any XML part (XML bombs, external entities). Every refusal is
   a ``FileRejected`` with a Chinese message, raised within milliseconds.
2. **Parsing** uses python-calamine (Rust, ~15x faster than openpyxl's reader).
3. **Every row is validated before anything is written**, and the classic
   spreadsheet traps are named with what to fix: an 18-digit ID typed as a
   number (Excel kept 15 digits), full-width digits, stray spaces, dates stored
   as text, numbers with decimals where whole numbers belong, values outside a
   list. Errors carry the Excel row number and the column header.
4. **All or nothing**: ``save()`` runs inside one transaction only when no row
   has an error. Importers match rows on a natural key, so importing the same
   file twice changes nothing the second time.

Usage in a view::

    report = imports.run(SchoolImporter(scope=request.scope, user=request.user, request=request), upload)
    if report.errors: ... show report.errors ...
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from . import audit

# Limits on the container; IMPORT_MAX_BYTES and IMPORT_MAX_ROWS come from settings.
MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 200  # an entry expanding more than this (and past 1 MiB) is a bomb
MAX_ERRORS = 500

FULL_WIDTH = re.compile(r"[\uff01-\uff5e]")
SPACES = "\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
TEXT_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class FileRejected(Exception):
    """The upload as a whole is refused; ``str(exc)`` is the user's message."""


@dataclass
class RowError:
    row: int  # Excel row number (the header is row 1)
    column: str  # column header as the user sees it ("" for the whole row)
    message: str


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error


@dataclass(frozen=True)
class Col:
    """One spreadsheet column.

    ``kind``: text | code (digits/letters, e.g. a school code) | id_number
    (18-character resident ID) | int | decimal | date | choice | bool.
    ``choices``: for ``choice``, a Django ``TextChoices`` class; the sheet holds
    its labels (Chinese or English), the row gets its values.
    """

    key: str
    header: str
    kind: str = "text"
    required: bool = True
    max_length: int | None = None
    choices: type | None = None
    help: str = ""
    #: other headers this column is recognised by (an earlier template's)
    aliases: tuple = ()

    def headers(self) -> set[str]:
        names = {self.key}
        for lang in ("zh-hans", "en"):
            with override(lang):
                names.add(str(self.header))
                names.update(str(a) for a in self.aliases)
        return names


class Importer:
    identifier = ""
    verbose_name = ""
    columns: list[Col] = []
    #: keys that identify a row; two rows with the same key in one file are an error
    natural_key: tuple[str, ...] = ()

    def __init__(self, *, scope, user, request=None):
        self.scope = scope
        self.user = user
        self.request = request
        self._errors: list[RowError] | None = None
        self._row = 0

    # hooks ---------------------------------------------------------------
    def prepare(self, rows: list[dict]) -> None:
        """Load what row validation needs in a few set-based queries (override)."""

    def clean_row(self, row: dict) -> None:
        """Business rules for one row; report problems with ``self.error(key, message)``."""

    def save(self, rows: list[dict]) -> tuple[int, int, int]:
        """Write all rows (inside a transaction). Returns (created, updated, unchanged)."""
        raise NotImplementedError

    def after_validation(self, report: ImportReport) -> None:
        """Runs once every row was validated, whatever the outcome, before anything is saved (override)."""

    # helpers -------------------------------------------------------------
    def error(self, key: str, message: str) -> None:
        col = next((c for c in self.columns if c.key == key), None)
        self._errors.append(RowError(self._row, str(col.header) if col else "", str(message)))


def read_rows(fileobj, *, max_bytes: int | None = None, max_rows: int | None = None):
    """Check an uploaded xlsx and return (header, body): the body's first row is Excel row 2.

    Empty rows are kept (calamine pads empty cells with ""); ``non_empty_rows`` skips them.

    Raises ``FileRejected`` with a user message for anything unsafe or malformed.
    """
    import python_calamine

    max_bytes = max_bytes or settings.IMPORT_MAX_BYTES
    max_rows = max_rows or settings.IMPORT_MAX_ROWS
    data = _read_limited(fileobj, max_bytes)
    _check_container(data)
    refuse_executable_parts(data)
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = wb.sheet_names
        if not names:
            raise FileRejected(_("The workbook has no sheet."))
        sheet = wb.get_sheet_by_index(0)
        if sheet.height > max_rows + 1:
            raise FileRejected(
                _("The sheet has %(n)s rows; at most %(max)s can be imported at once. Split the file.")
                % {"n": sheet.height - 1, "max": max_rows}
            )
        values = sheet.to_python(skip_empty_area=False)
    except FileRejected:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine raises its own types for broken files (a Rust panic is a BaseException)
        raise FileRejected(
            _("The file could not be read as an Excel workbook (%(error)s).") % {"error": exc.__class__.__name__}
        ) from None
    if not values:
        raise FileRejected(_("The first sheet is empty: the header row is missing."))
    header = [str(v).strip() if v is not None else "" for v in values[0]]
    return header, values[1:]


def non_empty_rows(body):
    """(Excel row number, values) for each row that has something in it."""
    for i, r in enumerate(body, start=2):
        if r.count("") + r.count(None) < len(r):
            yield i, r


def _read_limited(fileobj, max_bytes: int) -> bytes:
    size = getattr(fileobj, "size", None)
    if size is not None and size > max_bytes:
        raise FileRejected(
            _("The file is too large (%(size).1f MB); the limit is %(max).1f MB.")
            % {"size": size / 2**20, "max": max_bytes / 2**20}
        )
    data = fileobj.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRejected(_("The file is too large; the limit is %(max).1f MB.") % {"max": max_bytes / 2**20})
    if not data:
        raise FileRejected(_("The file is empty."))
    return data


def _check_container(data: bytes) -> None:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRejected(
            _("This is an old .xls file (or an encrypted workbook). Open it in Excel and save it as .xlsx.")
        )
    if data[:4] != b"PK\x03\x04":
        raise FileRejected(_("This is not an Excel .xlsx file. Download the template and fill it in Excel or WPS."))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected(_("The .xlsx file is damaged (not a valid zip archive).")) from None
    if len(infos) > MAX_ENTRIES:
        raise FileRejected(
            _("The .xlsx file has too many parts (%(n)s); it is not a normal workbook.") % {"n": len(infos)}
        )
    total = 0
    names = set()
    for info in infos:
        names.add(info.filename)
        total += info.file_size
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileRejected(_("The file is compressed suspiciously (a zip bomb); it was refused."))
        if info.flag_bits & 0x1:
            raise FileRejected(_("The workbook is password-protected. Remove the password and save it again."))
    if total > MAX_UNCOMPRESSED:
        raise FileRejected(
            _("The file expands to more than %(max)s MB; it was refused.") % {"max": MAX_UNCOMPRESSED // 2**20}
        )
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise FileRejected(_("This zip file is not an Excel workbook. Save it as .xlsx."))
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise FileRejected(
            _("The workbook contains macros, which are refused for safety. Save it as a plain .xlsx without macros.")
        )
    try:
        content_types = zf.read("[Content_Types].xml")
        DET.fromstring(content_types, forbid_dtd=True)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise FileRejected(_("The .xlsx file is damaged (not a valid zip archive).")) from None
    except (DefusedXmlException, DET.ParseError):
        raise FileRejected(
            _("The workbook contains unsafe XML (DTD or entity declarations); it was refused.")
        ) from None
    if b"macroEnabled" in content_types:
        raise FileRejected(
            _("The workbook contains macros, which are refused for safety. Save it as a plain .xlsx without macros.")
        )
    # Every part is inflated to its end from the archive's own bytes, its CRC and size checked against
    # the directory, and the bytes it really produces counted (a part whose directory entry lies about
    # its size would slip past the ratio check above). A DTD can only stand in an XML part's prolog.
    produced = 0
    for info in infos:
        head, size = _verify_part(data, info, MAX_UNCOMPRESSED - produced)
        produced += size
        if info.filename.endswith((".xml", ".rels", ".vml")) and (b"<!DOCTYPE" in head or b"<!ENTITY" in head):
            raise FileRejected(_("The workbook contains unsafe XML (DTD or entity declarations); it was refused."))


def _verify_part(data: bytes, info: zipfile.ZipInfo, budget: int) -> tuple[bytes, int]:
    """Inflate one part of the archive ``data``: (its first 2 KB, its real size). FileRejected when it is
    damaged (bad local header, corrupt deflate stream, CRC or size not as declared) or passes ``budget``."""

    def damaged():
        return FileRejected(
            _(
                "The .xlsx file is damaged (its part %(part)s cannot be read). Open it in Excel or WPS and save it again."
            )
            % {"part": info.filename}
        )

    h = info.header_offset
    if data[h : h + 4] != b"PK\x03\x04":
        raise damaged()
    start = h + 30 + int.from_bytes(data[h + 26 : h + 28], "little") + int.from_bytes(data[h + 28 : h + 30], "little")
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise damaged()
    if info.compress_type == zipfile.ZIP_STORED:
        pieces, inflater = [bytes(raw)], None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater, pieces = zlib.decompressobj(-15), None
    else:
        raise damaged()
    head, size, crc, rest = b"", 0, 0, bytes(raw)
    try:
        while True:
            if inflater is None:
                out, rest = (pieces.pop() if pieces else b""), b""
            else:
                out = inflater.decompress(rest, 1 << 20)
                rest = inflater.unconsumed_tail
            if len(head) < 2048:
                head += out[: 2048 - len(head)]
            size += len(out)
            if size > info.file_size:  # more than its entry declares: stop inflating at once
                raise damaged()
            if size > budget:
                raise FileRejected(_("The file is compressed suspiciously (a zip bomb); it was refused."))
            crc = zlib.crc32(out, crc)
            if not out and not rest:
                break
    except zlib.error:
        raise damaged() from None
    if (inflater is not None and not inflater.eof) or size != info.file_size or crc != info.CRC:
        raise damaged()
    return head, size


# Content types and relationship types of parts that run code or embed other programs: VBA projects
# (under any part name), macro sheets, ActiveX controls, OLE objects and embedded packages.
EXECUTABLE_CONTENT_TYPES = (
    "vbaproject",  # application/vnd.ms-office.vbaProject, vbaProjectSignature
    "vbadata",
    "macroenabled",
    "macrosheet",  # Excel 4 macro sheets (xlMacrosheet, xlIntlMacrosheet)
    "activex",
    "oleobject",
    "officedocument.package",  # an embedded file of any kind
    "attachedtoolbars",
    "keymapcustomizations",
    "x-msdownload",
)
EXECUTABLE_RELATIONSHIPS = (
    "/vbaproject",
    "/vbaprojectsignature",
    "/wordvbadata",
    "/xlmacrosheet",
    "/xlintlmacrosheet",
    "/control",  # an ActiveX control on a sheet
    "/activexcontrol",
    "/activexcontrolbinary",
    "/oleobject",
    "/package",
    "/attachedtoolbars",
    "/keymapcustomizations",
)
EXECUTABLE_FOLDERS = ("xl/activex/", "xl/embeddings/", "xl/macrosheets/", "xl/dialogsheets/")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: what a VBA project is, whatever its name
PKG = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def refuse_executable_parts(data: bytes) -> None:
    """Refuse a workbook carrying any executable part, however it is named: declared by content type
    (``[Content_Types].xml``), referenced by a relationship, stored where such parts live, or simply
    an OLE compound file inside the zip (a renamed ``vbaProject.bin``). Runs after ``_check_container``."""
    refused = FileRejected(
        _(
            "The workbook contains macros or embedded programs (VBA, ActiveX, OLE objects), which are refused "
            "for safety. Save it as a plain .xlsx workbook without them."
        )
    )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        types = DET.fromstring(zf.read("[Content_Types].xml"), forbid_dtd=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, DefusedXmlException, DET.ParseError):
        raise FileRejected(_("The .xlsx file is damaged (not a valid zip archive).")) from None
    for el in types:
        if el.tag in (PKG + "Default", PKG + "Override"):
            ctype = (el.get("ContentType") or "").lower()
            if any(t in ctype for t in EXECUTABLE_CONTENT_TYPES):
                raise refused
    for info in infos:
        name = info.filename.lower()
        if name.startswith(EXECUTABLE_FOLDERS) or name.endswith(".bin") and "printersettings" not in name:
            raise refused
        try:
            with zf.open(info) as fh:
                head = fh.read(8)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise FileRejected(_("The .xlsx file is damaged (not a valid zip archive).")) from None
        if head == OLE_MAGIC:
            raise refused
        if name.endswith(".rels"):
            try:
                rels = DET.fromstring(zf.read(info), forbid_dtd=True)
            except (DefusedXmlException, DET.ParseError, zipfile.BadZipFile, ValueError, OSError, EOFError):
                raise FileRejected(
                    _("The workbook contains unsafe XML (DTD or entity declarations); it was refused.")
                ) from None
            for rel in rels.iter(RELS + "Relationship"):
                if (rel.get("Type") or "").lower().endswith(EXECUTABLE_RELATIONSHIPS):
                    raise refused


# -- cell conversion with trap detection ------------------------------------------
class CellError(Exception):
    pass


def _as_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_text_traps(s: str, kind: str) -> str:
    if s != s.strip(" \t\r\n" + SPACES):
        if kind in ("code", "id_number", "choice", "date", "int", "decimal", "bool"):
            raise CellError(_("“%(value)s” has extra spaces before or after it; delete them.") % {"value": s})
        s = s.strip(" \t\r\n" + SPACES)
    if kind in ("code", "id_number") and any(ch.isspace() or ch in SPACES for ch in s):
        raise CellError(_("“%(value)s” contains spaces; delete them.") % {"value": s})
    m = FULL_WIDTH.search(s)
    if m and kind != "text":
        raise CellError(
            _(
                "“%(value)s” contains the full-width character “%(char)s”; type it with half-width (ordinary) characters."
            )
            % {"value": s, "char": m.group(0)}
        )
    return s


def convert(col: Col, v, lookup: dict | None = None):
    """Turn one cell into the value the importer receives, or raise CellError.

    ``lookup`` is ``choice_lookup(col.choices)``, computed once per import by the caller.
    """
    if v is None or (isinstance(v, str) and v.strip(" \t\r\n" + SPACES) == ""):
        if col.required:
            raise CellError(_("This column is required."))
        return None
    kind = col.kind
    if kind in ("code", "id_number"):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if abs(v) >= 1e15 or (isinstance(v, float) and not v.is_integer()):
                raise CellError(
                    _(
                        "The number was stored as a number, so Excel kept only 15 digits and the last ones are lost. "
                        "Format the column as Text and type the full value again."
                    )
                )
            v = _as_text(v)
        s = _check_text_traps(str(v), kind)
        if SCIENTIFIC.match(s):
            raise CellError(
                _(
                    "“%(value)s” is in scientific notation: the digits are lost. Format the column as Text and type the full value again."
                )
                % {"value": s}
            )
        if kind == "id_number":
            s = s.upper()
        if not s.isascii():  # "٣" or "²" pass str.isdigit(); a code or an ID is written in 0-9 and A-Z
            raise CellError(
                _("“%(value)s” contains characters other than the digits 0-9 and the letters A-Z; retype it.")
                % {"value": s}
            )
        if col.max_length and len(s) > col.max_length:
            raise CellError(_("At most %(n)s characters.") % {"n": col.max_length})
        return s
    if kind == "text":
        s = _check_text_traps(_as_text(v), kind)
        if col.max_length and len(s) > col.max_length:
            raise CellError(_("At most %(n)s characters (this has %(len)s).") % {"n": col.max_length, "len": len(s)})
        return s
    if kind == "int":
        if isinstance(v, bool):
            raise CellError(_("Expected a whole number."))
        if isinstance(v, float):
            if not v.is_integer():
                raise CellError(_("Expected a whole number, not %(value)s.") % {"value": v})
            return int(v)
        if isinstance(v, int):
            return v
        s = _check_text_traps(str(v), kind)
        if not re.fullmatch(r"-?\d+", s):
            raise CellError(_("Expected a whole number, not “%(value)s”.") % {"value": s})
        return int(s)
    if kind == "decimal":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return Decimal(str(v)).quantize(Decimal("0.01"))
        s = _check_text_traps(str(v), kind).replace(",", "")
        try:
            return Decimal(s).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise CellError(_("Expected an amount in yuan, not “%(value)s”.") % {"value": s}) from None
    if kind == "date":
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str):
            s = v.strip()
            m = TEXT_DATE.match(s)
            if m:
                raise CellError(
                    _(
                        "The date “%(value)s” is stored as text. Format the cell as a date (yyyy-mm-dd) and type it again, e.g. %(example)s."
                    )
                    % {"value": s, "example": f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"}
                )
            raise CellError(_("“%(value)s” is not a date; type a date such as 2016-09-01.") % {"value": s})
        raise CellError(_("Expected a date such as 2016-09-01."))
    if kind == "bool":
        s = _check_text_traps(_as_text(v), kind).lower()
        if s in ("是", "y", "yes", "true", "1", "√"):
            return True
        if s in ("否", "n", "no", "false", "0", "×"):
            return False
        raise CellError(_("Write 是 or 否 (yes or no), not “%(value)s”.") % {"value": v})
    if kind == "choice":
        s = _check_text_traps(_as_text(v), kind)
        lookup = lookup if lookup is not None else choice_lookup(col.choices)
        if s in lookup:
            return lookup[s]
        with override("zh-hans"):
            allowed = "、".join(str(label) for label in col.choices.labels)
        raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": s, "allowed": allowed})
    raise ValueError(kind)


def choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in zip(choices.values, choices.labels, strict=False):
        lookup[str(value)] = value
        for lang in ("zh-hans", "en"):
            with override(lang):
                lookup[str(label)] = value
    return lookup


# -- running an import ----------------------------------------------------------------
def run(importer: Importer, fileobj, *, keep_copy: bool = True) -> ImportReport:
    """Validate the whole file, then save all rows in one transaction, or nothing."""
    report, cleaned = validate(importer, fileobj)
    importer.after_validation(report)
    if not report.ok:
        return report
    # only a file that passed every check (no executable part) is kept for auditors
    stored = _keep_copy(fileobj) if keep_copy else ""
    _save(importer, cleaned, report, stored)
    return report


def _save(importer: Importer, cleaned, report: ImportReport, stored: str, **data) -> None:
    """Save the checked rows in one transaction with the import's audit entry (who, which importer, counts)."""
    with transaction.atomic():
        report.created, report.updated, report.unchanged = importer.save(cleaned)
        audit.log(
            importer.user,
            action=audit.Action.ACCESS,
            actor=importer.user,
            request=importer.request,
            event="import",
            importer=importer.identifier,
            rows=report.total,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            stored_copy=stored,
            **data,
        )


def validate(
    importer: Importer, fileobj, *, progress=None, max_errors: int = MAX_ERRORS
) -> tuple[ImportReport, list[dict]]:
    """Check the file and every row; nothing is written. Returns the report and the clean rows.

    ``progress(done, total)`` (a job's progress writer) is called as rows are checked."""
    report = ImportReport()
    try:
        header, raw_rows = read_rows(fileobj)
    except FileRejected as exc:
        report.file_error = str(exc)
        return report, []
    positions = {}
    for col in importer.columns:
        names = col.headers()
        idx = next((i for i, h in enumerate(header) if h in names), None)
        if idx is None and col.required:
            report.file_error = _(
                "The column “%(column)s” is missing from the header row. Download the template again."
            ) % {"column": col.header}
            return report, []
        positions[col.key] = idx
    raw_rows = list(non_empty_rows(raw_rows))
    report.total = len(raw_rows)
    if not raw_rows:
        report.file_error = _("The file has a header row but no data rows.")
        return report, []

    errors: list[RowError] = []
    importer._errors = errors
    cleaned: list[dict] = []
    # rows with a cell that could not be read still go through the importer's rules (the unreadable
    # cells as None), so that every problem of every row is reported in one round
    partial: list[tuple[dict, set]] = []
    plan = [
        (col, positions[col.key], choice_lookup(col.choices) if col.kind == "choice" else None, str(col.header))
        for col in importer.columns
    ]
    total = len(raw_rows)
    for i, (row_no, values) in enumerate(raw_rows):
        if progress is not None and i % 1000 == 0:
            progress(i, total)
        row = {"_row": row_no}
        failed = set()
        n = len(values)
        for col, idx, lookup, header_label in plan:
            raw = values[idx] if idx is not None and idx < n else None
            try:
                row[col.key] = convert(col, raw, lookup)
            except CellError as exc:
                errors.append(RowError(row_no, header_label, str(exc)))
                row[col.key] = None
                failed.add(header_label)
        if not failed:
            cleaned.append(row)
        else:
            partial.append((row, failed))
    # duplicates inside the file
    if importer.natural_key:
        seen: dict[tuple, int] = {}
        for row in cleaned:
            key = tuple(row.get(k) for k in importer.natural_key)
            if key in seen:
                first_col = next(c for c in importer.columns if c.key == importer.natural_key[0])
                errors.append(
                    RowError(
                        row["_row"],
                        str(first_col.header),
                        _("Duplicates row %(row)s of this file.") % {"row": seen[key]},
                    )
                )
            else:
                seen[key] = row["_row"]
    try:
        importer.prepare(cleaned + [row for row, _failed in partial])
    except (TypeError, AttributeError, KeyError, ValueError):  # a lookup that cannot take an unreadable cell
        importer.prepare(cleaned)
        partial = []
    for row in cleaned:
        importer._row = row["_row"]
        importer.clean_row(row)
    for row, failed in partial:
        importer._row = row["_row"]
        before = len(errors)
        try:
            importer.clean_row(row)
        except (TypeError, AttributeError, KeyError, ValueError, ArithmeticError):
            pass  # a rule that needs the unreadable cell is checked once the cell is fixed
        # a column already reported for this row keeps its first (reading) message
        errors[before:] = [e for e in errors[before:] if e.column not in failed]
    if errors:
        errors.sort(key=lambda e: e.row)
        report.errors = errors[:max_errors]
        report.more_errors = max(0, len(errors) - max_errors)
    return report, cleaned


def _keep_copy(fileobj) -> str:
    """Keep the uploaded file under PRIVATE_ROOT so auditors can trace an import."""
    folder = Path(settings.PRIVATE_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4()}.xlsx"
    fileobj.seek(0)
    with open(folder / name, "wb") as out:
        out.write(fileobj.read())
    return f"imports/{name}"


def template(importer_cls) -> bytes:
    """A blank template: header row, Text format on code/ID columns, date format, drop-downs, and a notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = str(importer_cls.verbose_name)[:31]
    notes = wb.create_sheet(_("Instructions")[:31])
    notes.append([_("Column"), _("Required"), _("Format"), _("Notes")])
    for c in notes[1]:
        c.font = Font(bold=True)
    kinds = {
        "text": _("text"),
        "code": _("text (digits kept exactly)"),
        "id_number": _("18-character resident ID, as text"),
        "int": _("whole number"),
        "decimal": _("amount in yuan"),
        "date": _("date, yyyy-mm-dd"),
        "bool": _("是 / 否"),
        "choice": _("one of the list"),
    }
    for i, col in enumerate(importer_cls.columns, 1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=str(col.header))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FFF2CC" if col.required else "EEEEEE")
        ws.column_dimensions[letter].width = max(12, len(str(col.header)) * 2 + 4)
        fmt = {"code": "@", "id_number": "@", "text": "@", "date": "yyyy-mm-dd", "decimal": "0.00"}.get(col.kind)
        if fmt:
            # A column style: Excel applies it to every cell the user types into, so
            # 18-digit IDs stay text (no pre-created rows that would push data down).
            ws.column_dimensions[letter].number_format = fmt
        note = str(col.help)
        if col.kind == "choice":
            labels = [str(label) for label in col.choices.labels]
            note = "、".join(labels) + ("；" + note if note else "")
            dv = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=not col.required)
            dv.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(dv)
        if col.kind == "bool":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=not col.required)
            dv.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(dv)
        notes.append([str(col.header), _("yes") if col.required else _("no"), str(kinds[col.kind]), note])
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCD", (20, 8, 28, 60), strict=False):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- the two views every import needs --------------------------------------------------
IMPORT_DONE = gettext_lazy("Imported %(total)s rows: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"))


def importer_for(importers: dict, kind: str):
    """The importer class an app registers as ``kind`` (from the URL); an unknown kind is refused (403)."""
    cls = importers.get(kind)
    if cls is None:
        raise PermissionDenied
    return cls


def template_name(importer_cls) -> str:
    """The template's file name in the reader's language: 学校导入模板.xlsx."""
    return _("%(what)s import template.xlsx") % {"what": importer_cls.verbose_name}


def template_response(importer_cls) -> HttpResponse:
    """The importer's blank template as a download."""
    from .display import content_disposition

    response = HttpResponse(template(importer_cls), content_type=XLSX)
    response["Content-Disposition"] = content_disposition(template_name(importer_cls))
    return response


class ImportQueueFull(Exception):
    """The user already has as many imports waiting or running as allowed."""


IMPORT_KIND = "import"
#: how many row problems an import job keeps for its page (the rest are counted)
JOB_MAX_ERRORS = 20_000


def _stage_upload(fileobj) -> str:
    """Keep the upload privately under PRIVATE_ROOT until its job is done; returns the relative path."""
    folder = Path(settings.PRIVATE_ROOT) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"uploads/{uuid.uuid4()}.xlsx"
    fileobj.seek(0)
    with open(Path(settings.PRIVATE_ROOT) / name, "wb") as out:
        for chunk in iter(lambda: fileobj.read(1 << 20), b""):
            out.write(chunk)
    return name


def start_import(
    request,
    importer_cls,
    fileobj,
    *,
    importer_kwargs: dict | None = None,
    inline: bool | None = None,
    result_url: str = "",
):
    """Store the upload and make it a job: large files go to a worker (the caller shows the job page),
    small ones run through the same job in this request. Returns the Job.

    Raises ``ImportQueueFull`` when the user already has ``IMPORT_MAX_QUEUED_PER_USER`` imports waiting
    or running, and ``FileRejected`` for a file over the size limit (nothing is stored then).
    """
    from . import jobs
    from .models import Job

    size = getattr(fileobj, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        _read_limited(fileobj, settings.IMPORT_MAX_BYTES)  # raises with the sizes
    if inline is None:
        inline = size is not None and size <= settings.IMPORT_INLINE_MAX_BYTES
    cap = settings.IMPORT_MAX_QUEUED_PER_USER
    if not inline:
        pending = Job.objects.filter(
            created_by=request.user, kind=IMPORT_KIND, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).count()
        if pending >= cap:
            raise ImportQueueFull(
                _(
                    "You already have %(n)s imports waiting or running; at most %(max)s at a time. "
                    "Wait for one to finish (see your jobs) and upload this file again."
                )
                % {"n": pending, "max": cap}
            )
    params = {
        "importer": f"{importer_cls.__module__}.{importer_cls.__qualname__}",
        "kwargs": importer_kwargs or {},
        "upload": _stage_upload(fileobj),
        "filename": str(getattr(fileobj, "name", ""))[:200],
        "remote_addr": audit.remote_addr(request),
    }
    if result_url:
        params["result_url"] = result_url  # the job's page links there once the rows are saved
    title = _("Import: %(what)s · %(file)s") % {"what": importer_cls.verbose_name, "file": params["filename"]}
    if not inline:
        return jobs.start(kind=IMPORT_KIND, params=params, title=title, request=request)
    job = Job.objects.create(
        kind=IMPORT_KIND, params=params, title=title[:200], created_by=request.user, sent_at=timezone.now()
    )
    try:
        jobs.execute(job.pk, beat=False)
    except Exception:  # recorded on the job as a failure with its reason; the page shows it
        pass
    job.refresh_from_db()
    return job


def _import_permission(scope, params) -> bool:
    return scope.role is not None and not scope.read_only


def _run_import_job(job, scope, progress):
    """The job handler: validate every row (with progress), then save all rows or none."""
    from django.utils.module_loading import import_string

    from . import jobs
    from .models import JobRowError

    params = job.params
    importer_cls = import_string(params["importer"])
    if not (isinstance(importer_cls, type) and issubclass(importer_cls, Importer)):
        raise jobs.JobFailed(_("Unknown import."))
    path = Path(settings.PRIVATE_ROOT) / params["upload"]
    if not path.exists():
        raise jobs.JobFailed(_("The uploaded file is no longer kept; upload it again."))
    request = _JobRequest(job.created_by, params.get("remote_addr"))
    importer = importer_cls(scope=scope, user=job.created_by, request=request, **params.get("kwargs", {}))
    JobRowError.objects.filter(job=job).delete()  # a retried job reports afresh
    with open(path, "rb") as fh:
        fh.size = path.stat().st_size
        report, cleaned = validate(importer, fh, progress=progress, max_errors=JOB_MAX_ERRORS)
        importer.after_validation(report)
        if not report.ok:
            # a refused file (macros, bombs, damage, bad rows) is never kept: the user fixes it and uploads again
            path.unlink(missing_ok=True)
        if report.file_error:
            raise jobs.JobFailed(report.file_error)
        if report.errors:
            JobRowError.objects.bulk_create(
                [JobRowError(job=job, row=e.row, column=e.column[:200], message=e.message) for e in report.errors],
                batch_size=5000,
            )
            n = len(report.errors) + report.more_errors
            more = (
                _(" Only the first %(shown)s are listed.") % {"shown": len(report.errors)} if report.more_errors else ""
            )
            raise jobs.JobFailed(
                _("%(n)s problems were found in %(total)s rows; nothing was imported.")
                % {"n": n, "total": report.total}
                + more
            )
        progress(report.total, report.total, force=True)
        fh.seek(0)
        stored = _keep_copy(fh)
    _save(importer, cleaned, report, stored, job=str(job.pk))
    path.unlink(missing_ok=True)
    return jobs.JobResult(rows=report.total, summary=str(IMPORT_DONE % report.__dict__))


class _JobRequest:
    """What importers and the audit log read from a request, for work done later on a worker."""

    def __init__(self, user, remote_addr):
        self.user = user
        self.META = {"REMOTE_ADDR": remote_addr} if remote_addr else {}


def report_from_job(job) -> ImportReport:
    """An import job's outcome in the shape ``includes/import_report.html`` shows."""
    report = ImportReport(total=job.result_rows or 0)
    if job.status == job.Status.FAILED:
        errors = list(job.row_errors.order_by("id")[: MAX_ERRORS + 1])
        if errors:
            report.errors = [RowError(e.row, e.column, e.message) for e in errors[:MAX_ERRORS]]
            report.more_errors = max(0, job.row_errors.count() - MAX_ERRORS)
        else:
            report.file_error = job.message
    return report


def upload_view(
    request, importer_cls, *, template_name: str, success_url: str, context: dict | None = None, **importer_kwargs
):
    """GET shows the upload form; POST makes the upload an import job. A small file runs at once: all
    rows saved gives a message and a redirect to ``success_url``; anything wrong, the same page with the
    file's or the rows' problems (``includes/import_report.html``) and nothing saved. A large file is
    validated and saved on a worker: the user goes to the job page (progress bar, problems by row and
    column, paginated). The caller checks permissions first; importer_kwargs must be plain data."""
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            job = start_import(
                request,
                importer_cls,
                form.cleaned_data["file"],
                importer_kwargs=importer_kwargs,
                result_url=str(success_url),
            )
        except (ImportQueueFull, FileRejected) as exc:
            form.add_error("file", str(exc))
        else:
            if not job.is_finished:
                return redirect("job_detail", pk=job.pk)
            if job.status == job.Status.SUCCEEDED:
                messages.success(request, job.message)
                return redirect(success_url)
            report = report_from_job(job)
    return render(request, template_name, {"form": form, "report": report, **(context or {})})


def _register():
    from . import jobs

    jobs.register(IMPORT_KIND, _run_import_job, permission=_import_permission)


_register()
