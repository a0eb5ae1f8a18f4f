"""CSV formats: encoding detection on import, UTF-8 (BOM) and cp932 on export, formula neutralisation."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re

import tablib
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats

logger = logging.getLogger(__name__)

# --- Formula injection ----------------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """Prefix an apostrophe when a spreadsheet would treat the cell as a formula."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore_neutralised(value: str) -> str:
    """Undo neutralise_formula for a cell coming back from an exported file."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


# --- Reading files ----------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message is shown to the user."""


# Control characters never appear in a real CSV; U+0080 and U+F8F0..U+F8F3 are
# what Python's cp932 makes of single bytes no Shift_JIS text contains, which
# is how a UTF-16 file without NUL bytes would otherwise slip through.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def decode_csv_bytes(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (BOM optional) first, then cp932, both strict."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        raise ImportFileError(gettext("The file is neither UTF-8 nor Shift_JIS (cp932)."))
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _NOT_TEXT.search(text):
            return text
    raise ImportFileError(gettext("The file is neither UTF-8 nor Shift_JIS (cp932)."))


def csv_dataset(text: str) -> tablib.Dataset:
    """Parse CSV text; a row wider than the header is refused with its row number."""
    dataset = tablib.Dataset()
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFileError(gettext("The file is not a readable CSV file.")) from exc
    if not rows:
        return dataset
    dataset.headers = [cell.strip() for cell in rows[0]]
    width = len(dataset.headers)
    while len(rows) > 1 and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # trailing empty lines, as spreadsheets write them
    for number, row in enumerate(rows[1:], 1):
        if any(cell.strip() for cell in row[width:]):
            raise ImportFileError(
                gettext("Row %(number)d has more cells (%(cells)d) than the header has columns (%(columns)d).")
                % {"number": number, "cells": len(row), "columns": width}
            )
        dataset.append(row[:width] + [""] * (width - len(row)))
    return dataset


class CSVImport(base_formats.CSV):
    """CSV in UTF-8 (BOM or not) or cp932, detected from the bytes.

    It declares itself binary so that the admin hands over the uploaded bytes
    untouched (ImportMixin would otherwise decode them with `from_encoding`
    before we could see which encoding they are in).
    """

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def get_title(self):
        # Lower case "csv" lets import-export's script pick it from the file name.
        return "csv"

    def create_dataset(self, in_stream, **kwargs):
        text = decode_csv_bytes(in_stream) if isinstance(in_stream, bytes) else in_stream
        return csv_dataset(text)

    def can_export(self):
        return False


class _CSVExport(base_formats.CSV):
    title = ""

    def __init__(self, encoding=None):
        super().__init__(encoding=None)

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def get_title(self):
        return self.title

    def can_import(self):
        return False

    def export_data(self, dataset, **kwargs):
        return self.encode(dataset.export("csv", **kwargs))

    def encode(self, text: str) -> bytes:
        raise NotImplementedError


class CSVExportUTF8(_CSVExport):
    """UTF-8 with a BOM: without it Excel reads UTF-8 as Shift_JIS and garbles Japanese."""

    title = _("CSV (UTF-8, BOM)")
    CONTENT_TYPE = "text/csv; charset=utf-8"

    def encode(self, text: str) -> bytes:
        return codecs.BOM_UTF8 + text.encode("utf-8")


class CSVExportCP932(_CSVExport):
    """Shift_JIS as Windows writes it (cp932), for older tools that read nothing else.

    Characters cp932 cannot represent (some kanji variants, emoji, accented
    Latin letters) are written as "?" rather than failing the whole export;
    the UTF-8 export keeps them.
    """

    title = _("CSV (Shift_JIS/cp932)")
    CONTENT_TYPE = "text/csv; charset=Windows-31J"

    def encode(self, text: str) -> bytes:
        return text.encode("cp932", errors="replace")


IMPORT_FORMATS = [CSVImport, *[f for f in (base_formats.XLSX,) if f.is_available()]]
EXPORT_FORMATS = [CSVExportUTF8, CSVExportCP932, *[f for f in (base_formats.XLSX,) if f.is_available()]]
