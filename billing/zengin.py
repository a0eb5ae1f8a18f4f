"""The 全銀協 (Zengin) 総合振込 file the secretariat uploads to its bank to pay the stores.

A pure module: no models, no database. The file is the standard fixed-length layout:
one header record, one data record per payee, a trailer and an end record, each
exactly 120 bytes, separated (and ended) by CRLF, in Shift_JIS (cp932) using only
single-byte characters: digits, upper-case latin letters, half-width katakana and
the few symbols banks accept.

Numeric fields are right-aligned and zero-padded; text fields are left-aligned and
space-padded, and a name longer than its field is cut at the field width, never
between a letter and its voiced mark (ﾞ or ﾟ).

Messages are in the user's language (English msgids, `gettext`).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import unicodedata
from collections.abc import Sequence

from django.utils.translation import gettext as _

RECORD_LENGTH = 120
MAX_AMOUNT_YEN = 9_999_999_999  # 振込金額 N(10)
MAX_TOTAL_YEN = 999_999_999_999  # 合計金額 N(12)
MAX_COUNT = 999_999  # 合計件数 N(6)

# Merchant.AccountType values (stores/models.py) → 預金種目.
ACCOUNT_TYPE_CODES = {"ordinary": "1", "current": "2"}

# (field, width) of each record type, in order. The writers below fill exactly these.
HEADER_FIELDS: tuple[tuple[str, int], ...] = (
    ("data_type", 1),  # データ区分 "1"
    ("kind_code", 2),  # 種別コード "21" 総合振込
    ("code_type", 1),  # コード区分 "0" JIS
    ("consignor_code", 10),  # 委託者コード
    ("consignor_name", 40),  # 委託者名
    ("transfer_date", 4),  # 取組日 MMDD
    ("bank_code", 4),  # 仕向銀行番号
    ("bank_name", 15),  # 仕向銀行名
    ("branch_code", 3),  # 仕向支店番号
    ("branch_name", 15),  # 仕向支店名
    ("account_type", 1),  # 預金種目
    ("account_number", 7),  # 口座番号
    ("dummy", 17),
)
DATA_FIELDS: tuple[tuple[str, int], ...] = (
    ("data_type", 1),  # データ区分 "2"
    ("bank_code", 4),  # 被仕向銀行番号
    ("bank_name", 15),  # 被仕向銀行名
    ("branch_code", 3),  # 被仕向支店番号
    ("branch_name", 15),  # 被仕向支店名
    ("clearing_house", 4),  # 手形交換所番号 (unused: spaces)
    ("account_type", 1),  # 預金種目
    ("account_number", 7),  # 口座番号
    ("holder_name", 30),  # 受取人名
    ("amount", 10),  # 振込金額
    ("new_code", 1),  # 新規コード "0"
    ("customer_code_1", 10),  # 顧客コード1
    ("customer_code_2", 10),  # 顧客コード2
    ("transfer_kind", 1),  # 振込指定区分 (space: the bank's default, 電信)
    ("edi_flag", 1),  # 識別表示 (space: customer codes, not EDI)
    ("dummy", 7),
)
TRAILER_FIELDS: tuple[tuple[str, int], ...] = (
    ("data_type", 1),  # データ区分 "8"
    ("count", 6),  # 合計件数
    ("total", 12),  # 合計金額
    ("dummy", 101),
)
END_FIELDS: tuple[tuple[str, int], ...] = (
    ("data_type", 1),  # データ区分 "9"
    ("dummy", 119),
)


class ZenginError(ValueError):
    """Data that cannot go into a transfer file; the message says which payee and which field.

    `field` is the attribute name (``"bank_code"``, ``"holder_kana"`` …) or None;
    `transfer_index` is the 0-based position of the payee in `transfers`, None for the consignor
    or the file as a whole.
    """

    def __init__(self, message: str, *, field: str | None = None, transfer_index: int | None = None):
        super().__init__(message)
        self.field = field
        self.transfer_index = transfer_index


@dataclasses.dataclass(frozen=True)
class Consignor:
    """依頼人: the secretariat, whose account the money leaves."""

    code: str  # 委託者コード, 10 digits, assigned by the bank
    name_kana: str  # 委託者名
    bank_code: str  # 4 digits
    bank_name_kana: str  # may be ""
    branch_code: str  # 3 digits
    branch_name_kana: str  # may be ""
    account_type: str  # "ordinary" | "current"
    account_number: str  # up to 7 digits


@dataclasses.dataclass(frozen=True)
class Transfer:
    """One payee line: where the money goes and how much."""

    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str  # 受取人名
    amount_yen: int  # > 0
    customer_code: str = ""  # 顧客コード1, up to 10 digits (the field is numeric)
    bank_name_kana: str = ""
    branch_name_kana: str = ""


# --- half-width kana ------------------------------------------------------------------------------

_KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_HALFWIDTH = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
_KANA_MAP = dict(zip(_KATAKANA, _HALFWIDTH, strict=True))
_KANA_MAP.update(
    {
        # Small kana are written large in bank names (ｷﾔﾂﾌﾟ, not ｷｬｯﾌﾟ).
        "ァ": "ｱ",
        "ィ": "ｲ",
        "ゥ": "ｳ",
        "ェ": "ｴ",
        "ォ": "ｵ",
        "ッ": "ﾂ",
        "ャ": "ﾔ",
        "ュ": "ﾕ",
        "ョ": "ﾖ",
        "ヮ": "ﾜ",
        "ヵ": "ｶ",
        "ヶ": "ｹ",
        # Letters outside the Zengin set (ｱ–ﾝ) take the sound banks register them under.
        "ヰ": "ｲ",
        "ヱ": "ｴ",
        "ヲ": "ｵ",
        # Voiced marks, after NFD has split them off their letters (ガ → カ + U+3099).
        "\u3099": "ﾞ",
        "\u309a": "ﾟ",
        # The long vowel mark: banks register it as a hyphen (ｺ-ﾋ-); ｰ is not in the Zengin set.
        "ー": "-",
        "\u2010": "-",  # hyphen
        "\u2212": "-",  # minus sign
    }
)
_ASCII_KEPT = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().-/,")
_YEN = "\\"  # 0x5C, shown as ¥ in JIS X 0201: the Zengin yen sign
_VOICED_MARKS = frozenset("ﾞﾟ")

# Company-type words → the abbreviations banks use: "ｶ)" before the name, "(ｶ" after it, "(ｶ)" inside it.
_ENTITY_ABBREVIATIONS = {
    "株式会社": "カ",
    "有限会社": "ユ",
    "合名会社": "メ",
    "合資会社": "シ",
    "合同会社": "ド",
    "医療法人社団": "イ",
    "医療法人財団": "イ",
    "医療法人": "イ",
    "特定非営利活動法人": "トクヒ",
    "一般社団法人": "シヤ",
    "公益社団法人": "シヤ",
    "一般財団法人": "ザイ",
    "公益財団法人": "ザイ",
    "社会福祉法人": "フク",
    "学校法人": "ガク",
    "宗教法人": "シユウ",
    # The short forms, as NFKC leaves ㈱, （株） etc.
    "(株)": "カ",
    "(有)": "ユ",
    "(名)": "メ",
    "(資)": "シ",
    "(同)": "ド",
}
_ENTITY_RE = re.compile(
    r"\s*(" + "|".join(re.escape(w) for w in sorted(_ENTITY_ABBREVIATIONS, key=len, reverse=True)) + r")\s*"
)


def _abbreviate_entities(text: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _ENTITY_RE.finditer(text):
        abbreviation = _ENTITY_ABBREVIATIONS[match.group(1)]
        parts.append(text[position : match.start()])
        if match.start() == 0:
            parts.append(abbreviation + ")")
        elif match.end() == len(text):
            parts.append("(" + abbreviation)
        else:
            parts.append("(" + abbreviation + ")")
        position = match.end()
    parts.append(text[position:])
    return "".join(parts)


def _convert_char(char: str) -> str | None:
    """One NFKC-normalised character as Zengin half-width text, or None if a transfer cannot carry it."""
    if char in _ASCII_KEPT:
        return char
    if "a" <= char <= "z":
        return char.upper()
    if char in ("¥", "\\"):
        return _YEN
    converted = []
    for part in unicodedata.normalize("NFD", char):  # ガ → カ + U+3099, ぱ → は + U+309A
        if "\u3041" <= part <= "\u3096":  # hiragana → katakana
            part = chr(ord(part) + 0x60)
        half = _KANA_MAP.get(part)
        if half is None:
            return None
        converted.append(half)
    return "".join(converted)


def _halfwidth(text: str) -> tuple[str, list[str]]:
    """The converted text and the characters that could not be converted."""
    # The stand-alone voiced marks ゛゜ would become a space plus a combining mark under NFKC.
    text = text.replace("\u309b", "\u3099").replace("\u309c", "\u309a")
    # NFKC: full-width latin, digits and space to ASCII, and half-width kana to full-width
    # (ｶﾞ → ガ), so that everything below deals with a single form.
    text = _abbreviate_entities(unicodedata.normalize("NFKC", text).strip())
    out: list[str] = []
    bad: list[str] = []
    for char in text:
        converted = _convert_char(char)
        if converted is None:
            if char not in bad:
                bad.append(char)
        else:
            out.append(converted)
    return "".join(out), bad


def _characters_text(bad: list[str]) -> str:
    return ", ".join(f"“{char}”" if char.isprintable() else f"U+{ord(char):04X}" for char in bad)


def to_halfwidth_kana(text: str, *, field: str | None = None) -> str:
    """`text` in the characters a Zengin transfer carries: half-width katakana, A–Z, 0–9, space and ().-/,¥.

    Hiragana and full-width katakana become half-width katakana (ガ → ｶﾞ, パ → ﾊﾟ), small kana
    become large (ッ → ﾂ, ャ → ﾔ), ー becomes "-", full-width latin and digits become ASCII, lower
    case becomes upper case, and company types are abbreviated as banks do (株式会社ヤマダ → ｶ)ﾔﾏﾀﾞ).
    The yen sign is returned as "\\", which is byte 0x5C (¥) in Shift_JIS. Leading and trailing
    spaces are dropped.

    Raises ZenginError naming `field` (a label for the message) and the characters left over
    (kanji, emoji, symbols such as ・ or &).
    """
    converted, bad = _halfwidth(text)
    if bad:
        if field:
            message = _(
                "The %(field)s “%(value)s” contains characters that cannot be used in a bank transfer: %(characters)s."
            ) % {"field": field, "value": text, "characters": _characters_text(bad)}
        else:
            message = _("“%(value)s” contains characters that cannot be used in a bank transfer: %(characters)s.") % {
                "value": text,
                "characters": _characters_text(bad),
            }
        raise ZenginError(message)
    return converted


# --- fields ---------------------------------------------------------------------------------------


class _Checker:
    """Validates and formats the fields of one party (the consignor or one payee) for its messages."""

    def __init__(self, who: str, transfer_index: int | None):
        self.who = who
        self.transfer_index = transfer_index

    def fail(self, message: str, field: str) -> ZenginError:
        return ZenginError(message, field=field, transfer_index=self.transfer_index)

    def digits(self, value: object, *, field: str, label: str, width: int, exact: bool) -> str:
        text = unicodedata.normalize("NFKC", value) if isinstance(value, str) else None
        ok = (
            text is not None
            and text.isascii()
            and text.isdigit()
            and (len(text) == width if exact else 1 <= len(text) <= width)
        )
        if not ok:
            if exact:
                message = _("%(who)s: the %(field)s must be %(digits)d digits, not “%(value)s”.")
            else:
                message = _("%(who)s: the %(field)s must be 1 to %(digits)d digits, not “%(value)s”.")
            raise self.fail(message % {"who": self.who, "field": label, "digits": width, "value": value}, field)
        return text.zfill(width)

    def account_type(self, value: object, *, field: str) -> str:
        code = ACCOUNT_TYPE_CODES.get(value) if isinstance(value, str) else None
        if code is None:
            message = _("%(who)s: unknown %(field)s “%(value)s” (expected “ordinary” or “current”).") % {
                "who": self.who,
                "field": _("account type"),
                "value": value,
            }
            raise self.fail(message, field)
        return code

    def text(self, value: object, *, field: str, label: str, width: int, required: bool) -> str:
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        converted, bad = _halfwidth(value)
        if bad:
            message = _(
                "%(who)s: the %(field)s “%(value)s” contains characters that cannot be used in a bank transfer: "
                "%(characters)s."
            ) % {"who": self.who, "field": label, "value": value, "characters": _characters_text(bad)}
            raise self.fail(message, field)
        if required and not converted:
            raise self.fail(_("%(who)s: the %(field)s is empty.") % {"who": self.who, "field": label}, field)
        return _fit(converted, width)


def _fit(text: str, width: int) -> str:
    """Left-aligned in `width`, cut at the width but never between a letter and its ﾞ/ﾟ."""
    if len(text) > width:
        cut = width - 1 if text[width] in _VOICED_MARKS else width
        text = text[:cut]
    return text.ljust(width)


def _record(layout: tuple[tuple[str, int], ...], **values: str) -> str:
    if set(values) != {name for name, _width in layout}:
        raise AssertionError(f"record fields {sorted(values)} do not match the layout")
    for name, width in layout:
        if len(values[name]) != width:
            raise AssertionError(f"field {name} is {len(values[name])} characters, not {width}")
    record = "".join(values[name] for name, _width in layout)
    if len(record.encode("cp932")) != RECORD_LENGTH:
        raise AssertionError(f"record is not {RECORD_LENGTH} bytes: {record!r}")
    return record


# --- the file -------------------------------------------------------------------------------------


def _header(consignor: Consignor, transfer_date: datetime.date) -> str:
    check = _Checker(_("Consignor"), None)
    return _record(
        HEADER_FIELDS,
        data_type="1",
        kind_code="21",
        code_type="0",
        consignor_code=check.digits(consignor.code, field="code", label=_("consignor code"), width=10, exact=True),
        consignor_name=check.text(
            consignor.name_kana, field="name_kana", label=_("consignor name (kana)"), width=40, required=True
        ),
        transfer_date=f"{transfer_date.month:02d}{transfer_date.day:02d}",
        bank_code=check.digits(consignor.bank_code, field="bank_code", label=_("bank code"), width=4, exact=True),
        bank_name=check.text(
            consignor.bank_name_kana, field="bank_name_kana", label=_("bank name (kana)"), width=15, required=False
        ),
        branch_code=check.digits(
            consignor.branch_code, field="branch_code", label=_("branch code"), width=3, exact=True
        ),
        branch_name=check.text(
            consignor.branch_name_kana,
            field="branch_name_kana",
            label=_("branch name (kana)"),
            width=15,
            required=False,
        ),
        account_type=check.account_type(consignor.account_type, field="account_type"),
        account_number=check.digits(
            consignor.account_number, field="account_number", label=_("account number"), width=7, exact=False
        ),
        dummy=" " * 17,
    )


def _amount(check: _Checker, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        message = _("%(who)s: the %(field)s must be a positive whole number of yen, not %(value)s.") % {
            "who": check.who,
            "field": _("amount"),
            "value": value,
        }
        raise check.fail(message, "amount_yen")
    if value > MAX_AMOUNT_YEN:
        message = _("%(who)s: the %(field)s must be at most %(maximum)s yen, not %(value)s.") % {
            "who": check.who,
            "field": _("amount"),
            "maximum": f"{MAX_AMOUNT_YEN:,}",
            "value": f"{value:,}",
        }
        raise check.fail(message, "amount_yen")
    return value


def _customer_code(check: _Checker, value: object) -> str:
    # 顧客コード1 is a numeric field, N(10), in the standard layout (letters only go in the EDI variant).
    text = unicodedata.normalize("NFKC", value) if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"[0-9]{0,10}", text):
        message = _("%(who)s: the %(field)s must be at most %(digits)d digits, not “%(value)s”.") % {
            "who": check.who,
            "field": _("customer code"),
            "digits": 10,
            "value": value,
        }
        raise check.fail(message, "customer_code")
    return text.zfill(10)


def _data(transfer: Transfer, index: int) -> tuple[str, int]:
    payee = transfer.holder_kana if isinstance(transfer.holder_kana, str) else ""
    payee = payee.strip() or (transfer.customer_code if isinstance(transfer.customer_code, str) else "") or "?"
    check = _Checker(_("Transfer %(number)d (%(payee)s)") % {"number": index + 1, "payee": payee}, index)
    amount = _amount(check, transfer.amount_yen)
    record = _record(
        DATA_FIELDS,
        data_type="2",
        bank_code=check.digits(transfer.bank_code, field="bank_code", label=_("bank code"), width=4, exact=True),
        bank_name=check.text(
            transfer.bank_name_kana, field="bank_name_kana", label=_("bank name (kana)"), width=15, required=False
        ),
        branch_code=check.digits(
            transfer.branch_code, field="branch_code", label=_("branch code"), width=3, exact=True
        ),
        branch_name=check.text(
            transfer.branch_name_kana,
            field="branch_name_kana",
            label=_("branch name (kana)"),
            width=15,
            required=False,
        ),
        clearing_house=" " * 4,
        account_type=check.account_type(transfer.account_type, field="account_type"),
        account_number=check.digits(
            transfer.account_number, field="account_number", label=_("account number"), width=7, exact=False
        ),
        holder_name=check.text(
            transfer.holder_kana, field="holder_kana", label=_("account holder (kana)"), width=30, required=True
        ),
        amount=f"{amount:010d}",
        new_code="0",
        customer_code_1=_customer_code(check, transfer.customer_code),
        customer_code_2="0" * 10,
        transfer_kind=" ",
        edi_flag=" ",
        dummy=" " * 7,
    )
    return record, amount


def zengin_transfer_file(*, consignor: Consignor, transfer_date: datetime.date, transfers: Sequence[Transfer]) -> bytes:
    """The 総合振込 file paying `transfers` from the consignor's account on `transfer_date`, as bytes (cp932).

    Raises ZenginError (a ValueError) with a message naming the payee and the field at fault.
    """
    if not isinstance(transfer_date, datetime.date):
        raise ZenginError(_("The transfer date must be a date, not “%(value)s”.") % {"value": transfer_date})
    transfers = list(transfers)
    if not transfers:
        raise ZenginError(_("There are no transfers to put in the file."))
    if len(transfers) > MAX_COUNT:
        raise ZenginError(
            _("A transfer file holds at most %(maximum)s transfers, not %(count)s.")
            % {"maximum": f"{MAX_COUNT:,}", "count": f"{len(transfers):,}"}
        )
    records = [_header(consignor, transfer_date)]
    total = 0
    for index, transfer in enumerate(transfers):
        record, amount = _data(transfer, index)
        records.append(record)
        total += amount
    if total > MAX_TOTAL_YEN:
        raise ZenginError(
            _("The transfers add up to %(total)s yen, more than the %(maximum)s yen a transfer file can hold.")
            % {"total": f"{total:,}", "maximum": f"{MAX_TOTAL_YEN:,}"}
        )
    records.append(
        _record(TRAILER_FIELDS, data_type="8", count=f"{len(transfers):06d}", total=f"{total:012d}", dummy=" " * 101)
    )
    records.append(_record(END_FIELDS, data_type="9", dummy=" " * 119))
    return "".join(record + "\r\n" for record in records).encode("cp932")
