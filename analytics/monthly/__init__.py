"""The monthly reports (docs/analytics.md): a programme's month, or a merchant's own stores' month, as a PDF
with the charts and a CSV with the tables, made after the close, mailed once, the twelve newest kept.

`content` gathers the four reports' figures for the month (the five-member rule applied as the reports
apply it), `pdf` and `csv` write them, `services` makes, mails and prunes the reports."""
