import logging

from common.logging import RedactQueryStrings


def test_request_log_lines_lose_their_query_string():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /admin/members/member/?q=090-1234-5678 HTTP/1.1", 200, 512),
        None,
    )

    RedactQueryStrings().filter(record)

    line = record.getMessage()
    assert "090-1234-5678" not in line
    assert line.startswith('"GET /admin/members/member/?… HTTP/1.1" 200')
