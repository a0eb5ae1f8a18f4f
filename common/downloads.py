"""CSV downloads as spreadsheets in Japan open them: UTF-8 with a BOM, or Shift_JIS (cp932) for older Excel."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header

# ?encoding= → (Python codec, charset of the response, file-name suffix).
CSV_ENCODINGS = {"utf-8": ("utf-8-sig", "utf-8", ""), "cp932": ("cp932", "shift_jis", "-sjis")}


def csv_attachment(content: bytes, *, charset: str, filename: str) -> HttpResponse:
    """The encoded CSV as a file to save."""
    response = HttpResponse(content, content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
