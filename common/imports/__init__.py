"""Import and export in the files the secretariat works with.

- CSV comes in UTF-8 (with or without the BOM Excel writes) or in
  Shift_JIS/cp932 (what Excel in Japan saves as "CSV"); the encoding is
  detected, and a file that is neither is refused with a plain message.
- Exports are offered as UTF-8 with BOM (Excel opens it correctly), as
  cp932, and as XLSX.
- Text cells that a spreadsheet would run as a formula (= + - @, tab, CR)
  are exported with a leading apostrophe (OWASP "CSV injection"); importing
  such a cell strips the apostrophe again, so an export can be edited and
  imported back.
- A file is imported whole or not at all: every bad row is reported with
  its row number and reason, and one bad row rolls back every other row.
  Row numbers count data rows: row 1 is the first row under the header.
- A confirmed import is written to the audit trail in the same transaction,
  with counts only (never values from the file).
"""

from common.imports.formats import (  # noqa: F401
    EXPORT_FORMATS,
    FORMULA_TRIGGERS,
    IMPORT_FORMATS,
    CSVExportCP932,
    CSVExportUTF8,
    CSVImport,
    ImportFileError,
    csv_dataset,
    decode_csv_bytes,
    neutralise_formula,
    restore_neutralised,
)
from common.imports.resources import (  # noqa: F401
    MASK,
    BackofficeResource,
    ImportProblem,
    MaskedDiff,
    import_counts,
    import_problems,
    import_rejected,
)
from common.imports.widgets import (  # noqa: F401
    IsoDateWidget,
    LocalDateTimeWidget,
    LookupWidget,
    StrictBooleanWidget,
    StrictIntegerWidget,
)
