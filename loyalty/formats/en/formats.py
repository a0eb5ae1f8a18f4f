# One date style across the admin, the portal and the PDFs (common/formatting.py uses the same patterns):
# 2026/12/03 and 2026/12/03 09:05, in either language. Input formats stay Django's (ISO dates are typed).
DATE_FORMAT = "Y/m/d"
SHORT_DATE_FORMAT = "Y/m/d"
DATETIME_FORMAT = "Y/m/d H:i"
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
MONTH_DAY_FORMAT = "m/d"
YEAR_MONTH_FORMAT = "Y/m"
