"""Logging filters that keep personal data and secrets out of the logs."""

import logging
import re

_QUERY = re.compile(r"\?[^\s\"]*")


class RedactQueryStrings(logging.Filter):
    """Drop query strings from request log lines: admin searches carry phone
    numbers, e-mail addresses and card numbers there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = ()
        record.msg = _QUERY.sub("?…", str(record.msg))
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META"):
            record.request = None
        return True
