"""The monthly report's tables as one CSV, UTF-8 with a BOM as Excel in Japan opens it (common.downloads):
a line naming the report, then each table under its section's and table's name, a blank line between."""

from __future__ import annotations

import csv
import io

from analytics.monthly.content import MonthlyContent


def monthly_csv(content: MonthlyContent) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([content.title, content.owner, content.programme, content.period])
    for section in content.sections:
        writer.writerow([])
        writer.writerow([section.title])
        for label, value in section.summary:
            writer.writerow([label, value])
        for table in section.tables:
            writer.writerow([])
            writer.writerow([f"{section.title}：{table.caption}"])
            writer.writerows(table.rows)
    return out.getvalue().encode("utf-8-sig")
