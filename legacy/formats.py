"""The old system's files as docs/imports.md describes them: which files, their columns (by internal name, or
by their Japanese or English header), how values are read, and how a problem names its file, row and column.

Files are CSV in UTF-8 (BOM optional) or Shift_JIS (cp932), told apart by their bytes as every import of the
project does (common/imports/formats.py). Row 1 is the first row under the header.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.imports.formats import ImportFileError, decode_csv_bytes


@dataclass(frozen=True)
class Column:
    name: str
    label: Promise
    required: bool = False  # the file must have the column


@dataclass(frozen=True)
class FileSpec:
    name: str
    title: Promise
    columns: tuple[Column, ...]
    required: bool = False  # the import needs the file

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


LEGACY_ID = Column("legacy_id", _("old member number"), required=True)

MEMBERS = FileSpec(
    "members.csv",
    _("Members"),
    (
        LEGACY_ID,
        Column("name", _("name")),
        Column("name_kana", _("name (kana)")),
        Column("phone", _("phone")),
        Column("email", _("e-mail")),
        Column("postal_code", _("postal code")),
        Column("address", _("address")),
        Column("birth_date", _("birth date")),
        Column("gender", _("gender")),
        Column("terms_version", _("terms version agreed")),
        Column("registered_on", _("member since")),
        Column("opt_in_mail_magazine", _("mail magazine")),
        Column("opt_in_direct_mail", _("direct mail")),
        Column("opt_in_targeted_offers", _("use of data for targeted offers")),
    ),
    required=True,
)
CARDS = FileSpec(
    "cards.csv",
    _("Cards"),
    (
        LEGACY_ID,
        Column("card_type", _("card type"), required=True),
        Column("number", _("card number"), required=True),
        Column("status", _("status")),
    ),
)
LOTS = FileSpec(
    "lots.csv",
    _("Point lots"),
    (
        Column("card_number", _("card number")),
        Column("legacy_id", _("old member number")),
        Column("points", _("points"), required=True),
        Column("earned_on", _("earned on"), required=True),
        Column("expires_on", _("valid until"), required=True),
        Column("store_code", _("issuing store code")),
    ),
)
RANKS = FileSpec(
    "ranks.csv",
    _("Ranks"),
    (
        LEGACY_ID,
        Column("rank", _("rank"), required=True),
        Column("valid_until", _("valid until"), required=True),
    ),
)
TOTALS = FileSpec(
    "totals.csv",
    _("Control totals"),
    (
        Column("kind", _("total of"), required=True),
        Column("key", _("which")),
        Column("points", _("points"), required=True),
        Column("count", _("count")),
    ),
)
FILES = (MEMBERS, CARDS, LOTS, RANKS, TOTALS)
FILE_NAMES = tuple(spec.name for spec in FILES)


# --- problems ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the file as a whole
    column: str  # as the file names it; "" for the row or the file
    message: str

    def __str__(self) -> str:
        values = {"file": self.file, "row": self.row, "column": self.column, "message": self.message}
        if self.row is None:
            if self.column:
                return gettext("%(file)s: %(column)s: %(message)s") % values
            return gettext("%(file)s: %(message)s") % values
        if self.column:
            return gettext("%(file)s row %(row)s: %(column)s: %(message)s") % values
        return gettext("%(file)s row %(row)s: %(message)s") % values


class Problems:
    """Every reason an import is refused, the first `keep` of them word for word."""

    def __init__(self, keep: int = 200):
        self.keep = keep
        self.count = 0
        self.kept: list[Problem] = []

    def add(self, file: str, row: int | None, column: str, message) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(Problem(file, row, column, str(message)))

    def lines(self) -> list[str]:
        """In the order of the files and their rows (problems found against the database come last)."""
        order = {name: index for index, name in enumerate(FILE_NAMES)}
        kept = sorted(self.kept, key=lambda problem: (order.get(problem.file, 99), problem.row or 0))
        lines = [str(problem) for problem in kept]
        if self.count > len(self.kept):
            lines.append(gettext("… and %(count)s more problems.") % {"count": f"{self.count - len(self.kept):,}"})
        return lines

    def __bool__(self) -> bool:
        return self.count > 0


# --- sources: where the files come from -------------------------------------------------------------------


class DirectorySource:
    """The files of a directory (manage.py import_legacy DIR)."""

    def __init__(self, path):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def read(self, name: str) -> bytes | None:
        path = self.path / name
        return path.read_bytes() if path.is_file() else None


class BytesSource:
    """Files given as bytes by name (uploaded in the admin, or made by a test)."""

    def __init__(self, files: dict[str, bytes], label: str = ""):
        self.files = files
        self.label = label

    def __str__(self) -> str:
        return self.label

    def read(self, name: str) -> bytes | None:
        return self.files.get(name)


# --- reading a file ---------------------------------------------------------------------------------------


def _header_names(column: Column) -> set[str]:
    names = {column.name.casefold()}
    for language in ("ja", "en"):
        with translation.override(language):
            label = str(column.label)
        names |= {label.casefold(), unicodedata.normalize("NFKC", label).casefold()}
    return names


@dataclass
class Table:
    """A file's rows, each as the values of the spec's columns (empty for a column the file does not have)."""

    spec: FileSpec
    text: str
    headers: dict[str, str]  # column name -> the header as the file writes it
    positions: list[int | None]  # per spec column, its position in the file
    width: int  # the header's columns

    def has(self, name: str) -> bool:
        return name in self.headers

    def header(self, name: str) -> str:
        return self.headers.get(name) or str(self.spec.column(name).label)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, values) for every row that is not empty; a row wider than the header is a problem
        raised as ValueError, with the row number."""
        reader = csv.reader(io.StringIO(self.text, newline=""))
        next(reader, None)
        width = self.width
        positions = self.positions
        for number, row in enumerate(reader, 1):
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                raise RowTooWide(number, len(row), width)
            values = [row[p].strip() if p is not None and p < len(row) else "" for p in positions]
            if any(values):
                yield number, values

    def count_rows(self) -> int:
        """About how many rows (lines) the file has, for a progress bar."""
        return max(0, self.text.count("\n") - 1)


class RowTooWide(ValueError):
    def __init__(self, row: int, cells: int, columns: int):
        self.row, self.cells, self.columns = row, cells, columns
        super().__init__(row)


def table_read(spec: FileSpec, data: bytes, problems: Problems) -> Table | None:
    """The file's table, or None with its problems noted (not text, no header, unknown, repeated or missing
    columns)."""
    try:
        text = decode_csv_bytes(data)
    except ImportFileError as error:
        problems.add(spec.name, None, "", str(error))
        return None
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        problems.add(spec.name, None, "", gettext("The file is not a readable CSV file."))
        return None
    header = [cell.strip() for cell in header]
    while header and not header[-1]:
        header.pop()
    if not header:
        problems.add(spec.name, None, "", gettext("The file has no header row."))
        return None
    names = {column.name: _header_names(column) for column in spec.columns}
    headers: dict[str, str] = {}
    positions: dict[str, int] = {}
    ok = True
    for position, cell in enumerate(header):
        wanted = {cell.casefold(), unicodedata.normalize("NFKC", cell).casefold()}
        found = next((name for name, known in names.items() if wanted & known), None)
        if found is None:
            problems.add(spec.name, None, cell, gettext("This column is unknown."))
            ok = False
        elif found in headers:
            problems.add(spec.name, None, cell, gettext("This column appears twice."))
            ok = False
        else:
            headers[found], positions[found] = cell, position
    for column in spec.columns:
        if column.required and column.name not in headers:
            problems.add(spec.name, None, str(column.label), gettext("The file lacks this column."))
            ok = False
    if not ok:
        return None
    return Table(spec, text, headers, [positions.get(column.name) for column in spec.columns], len(header))


# --- values -------------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_MONTH_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_TRUE = {"1", "true", "yes", "y", "はい", "有", "あり", "○"}
_FALSE = {"", "0", "false", "no", "n", "いいえ", "無", "なし", "×"}


def ascii_text(value: str) -> str:
    """Full-width digits and letters typed on a Japanese keyboard, made ASCII (cheap when already ASCII)."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value).strip()


def date_value(value: str) -> datetime.date:
    """2027-03-31, 2027/03/31 or 2027/3/31 (as spreadsheets write it)."""
    match = _DATE_RE.match(ascii_text(value))
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(gettext("Enter a date as YYYY-MM-DD or YYYY/MM/DD."))


def month_value(value: str) -> str:
    """2027-03 or 2027/3, as "2027-03"."""
    match = _MONTH_RE.match(ascii_text(value))
    if match and 1 <= int(match[2]) <= 12:
        return f"{int(match[1]):04d}-{int(match[2]):02d}"
    raise ValueError(gettext("Enter a month as YYYY-MM."))


def whole_value(value: str, *, low: int, high: int) -> int:
    """A whole number in [low, high]; thousands separators are allowed."""
    text = ascii_text(value).replace(",", "")
    if text.isdigit():
        number = int(text)
        if low <= number <= high:
            return number
    raise ValueError(
        gettext("Enter a whole number from %(low)s to %(high)s.") % {"low": f"{low:,}", "high": f"{high:,}"}
    )


def flag_value(value: str) -> bool:
    text = ascii_text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(gettext("Enter 1 or 0 (yes or no)."))


def choice_value(value: str, choices: dict[str, str], message) -> str:
    """The internal value of a choice given as itself or as its label (Japanese or English)."""
    text = ascii_text(value).casefold()
    if text in choices:
        return choices[text]
    raise ValueError(str(message))


def labelled_choices(choices, *, extra: dict[str, str] | None = None) -> dict[str, str]:
    """value and label (in Japanese and English), casefolded, -> value."""
    found = {}
    for value, label in choices:
        found[str(value).casefold()] = value
        for language in ("ja", "en"):
            with translation.override(language):
                found[unicodedata.normalize("NFKC", str(label)).casefold()] = value
    found.update({key.casefold(): value for key, value in (extra or {}).items()})
    return found
