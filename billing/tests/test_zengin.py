"""The 全銀 総合振込 file generator: layout, half-width conversion and validation. No database."""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from billing import zengin
from billing.zengin import Consignor, Transfer, ZenginError, to_halfwidth_kana, zengin_transfer_file

# The layout as the 全銀協 format defines it, written out independently of the module: (name, start, width).
HEADER_SPEC = [
    ("データ区分", 0, 1),
    ("種別コード", 1, 2),
    ("コード区分", 3, 1),
    ("委託者コード", 4, 10),
    ("委託者名", 14, 40),
    ("取組日", 54, 4),
    ("仕向銀行番号", 58, 4),
    ("仕向銀行名", 62, 15),
    ("仕向支店番号", 77, 3),
    ("仕向支店名", 80, 15),
    ("預金種目", 95, 1),
    ("口座番号", 96, 7),
    ("ダミー", 103, 17),
]
DATA_SPEC = [
    ("データ区分", 0, 1),
    ("被仕向銀行番号", 1, 4),
    ("被仕向銀行名", 5, 15),
    ("被仕向支店番号", 20, 3),
    ("被仕向支店名", 23, 15),
    ("手形交換所番号", 38, 4),
    ("預金種目", 42, 1),
    ("口座番号", 43, 7),
    ("受取人名", 50, 30),
    ("振込金額", 80, 10),
    ("新規コード", 90, 1),
    ("顧客コード1", 91, 10),
    ("顧客コード2", 101, 10),
    ("振込指定区分", 111, 1),
    ("識別表示", 112, 1),
    ("ダミー", 113, 7),
]
TRAILER_SPEC = [("データ区分", 0, 1), ("合計件数", 1, 6), ("合計金額", 7, 12), ("ダミー", 19, 101)]
END_SPEC = [("データ区分", 0, 1), ("ダミー", 1, 119)]

CONSIGNOR = Consignor(
    code="1234567890",
    name_kana="ショウテンガイシンコウクミアイ",
    bank_code="0001",
    bank_name_kana="ミズホ",
    branch_code="001",
    branch_name_kana="トウキヨウ",
    account_type="ordinary",
    account_number="7654321",
)
TRANSFER_DATE = datetime.date(2026, 10, 5)


def _transfer(**overrides) -> Transfer:
    values = {
        "bank_code": "0005",
        "branch_code": "123",
        "account_type": "current",
        "account_number": "98765",
        "holder_kana": "カ）ヤマダショウテン",
        "amount_yen": 123_456,
        "customer_code": "2026000123",
        "bank_name_kana": "ミツビシユ-エフジエイ",
        "branch_name_kana": "ほんてん",
    }
    values.update(overrides)
    return Transfer(**values)


def _file(*transfers: Transfer, consignor: Consignor = CONSIGNOR) -> bytes:
    return zengin_transfer_file(consignor=consignor, transfer_date=TRANSFER_DATE, transfers=list(transfers))


def _lines(content: bytes) -> list[str]:
    text = content.decode("cp932")
    assert text.endswith("\r\n")
    return text[: -len("\r\n")].split("\r\n")


def _fields(line: str, spec) -> dict[str, str]:
    return {name: line[start : start + width] for name, start, width in spec}


def _error(**kwargs) -> ZenginError:
    with translation.override("en"), pytest.raises(ZenginError) as caught:
        zengin_transfer_file(**{"consignor": CONSIGNOR, "transfer_date": TRANSFER_DATE, **kwargs})
    return caught.value


# --- layout -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout, spec",
    [
        (zengin.HEADER_FIELDS, HEADER_SPEC),
        (zengin.DATA_FIELDS, DATA_SPEC),
        (zengin.TRAILER_FIELDS, TRAILER_SPEC),
        (zengin.END_FIELDS, END_SPEC),
    ],
)
def test_field_widths_add_up_to_120_and_match_the_standard(layout, spec):
    assert sum(width for _name, width in layout) == 120
    assert sum(width for _name, _start, width in spec) == 120
    assert [width for _name, width in layout] == [width for _name, _start, width in spec]
    # The spec's start columns are contiguous.
    ends = [start + width for _name, start, width in spec]
    assert [start for _name, start, _width in spec] == [0, *ends[:-1]]
    assert ends[-1] == 120


def test_every_record_is_120_bytes_and_crlf_separated():
    content = _file(_transfer(), _transfer(holder_kana="ア" * 40, amount_yen=1, customer_code=""))
    raw_records = content.split(b"\r\n")
    assert raw_records[-1] == b""  # a final CRLF
    assert len(raw_records[:-1]) == 5  # header, 2 data, trailer, end
    assert all(len(record) == 120 for record in raw_records[:-1])
    assert len(content) == 5 * 122
    assert b"\n" not in content.replace(b"\r\n", b"")
    assert b"\r" not in content.replace(b"\r\n", b"")


def test_the_file_is_cp932_with_only_single_byte_characters():
    content = _file(_transfer(holder_kana="がっこうほうじん さくら（がく"))
    text = content.decode("cp932")
    for char in text.replace("\r\n", ""):
        assert char.isascii() or "\uff61" <= char <= "\uff9f", repr(char)
    assert len(text.replace("\r\n", "")) == len(content.replace(b"\r\n", b""))


def test_header_record_field_by_field():
    header = _lines(_file(_transfer()))[0]
    assert _fields(header, HEADER_SPEC) == {
        "データ区分": "1",
        "種別コード": "21",
        "コード区分": "0",
        "委託者コード": "1234567890",
        "委託者名": "ｼﾖｳﾃﾝｶﾞｲｼﾝｺｳｸﾐｱｲ".ljust(40),
        "取組日": "1005",
        "仕向銀行番号": "0001",
        "仕向銀行名": "ﾐｽﾞﾎ".ljust(15),
        "仕向支店番号": "001",
        "仕向支店名": "ﾄｳｷﾖｳ".ljust(15),
        "預金種目": "1",
        "口座番号": "7654321",
        "ダミー": " " * 17,
    }


def test_data_record_field_by_field():
    data = _lines(_file(_transfer()))[1]
    assert _fields(data, DATA_SPEC) == {
        "データ区分": "2",
        "被仕向銀行番号": "0005",
        "被仕向銀行名": "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".ljust(15),
        "被仕向支店番号": "123",
        "被仕向支店名": "ﾎﾝﾃﾝ".ljust(15),
        "手形交換所番号": "    ",
        "預金種目": "2",
        "口座番号": "0098765",
        "受取人名": "ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ".ljust(30),
        "振込金額": "0000123456",
        "新規コード": "0",
        "顧客コード1": "2026000123",
        "顧客コード2": "0000000000",
        "振込指定区分": " ",
        "識別表示": " ",
        "ダミー": " " * 7,
    }


def test_optional_names_and_customer_code_may_be_empty():
    data = _lines(_file(_transfer(bank_name_kana="", branch_name_kana="", customer_code="", account_type="ordinary")))[
        1
    ]
    fields = _fields(data, DATA_SPEC)
    assert fields["被仕向銀行名"] == " " * 15
    assert fields["被仕向支店名"] == " " * 15
    assert fields["顧客コード1"] == "0000000000"
    assert fields["預金種目"] == "1"


def test_short_customer_code_and_account_number_are_zero_padded():
    data = _lines(_file(_transfer(customer_code="42", account_number="1")))[1]
    fields = _fields(data, DATA_SPEC)
    assert fields["顧客コード1"] == "0000000042"
    assert fields["口座番号"] == "0000001"


def test_full_width_digits_in_codes_are_accepted():
    data = _lines(_file(_transfer(bank_code="０００５", branch_code="１２３", account_number="９８７６５")))[1]
    assert data[1:5] == "0005"
    assert data[20:23] == "123"
    assert data[43:50] == "0098765"


def test_current_account_consignor():
    header = _lines(_file(_transfer(), consignor=dataclasses.replace(CONSIGNOR, account_type="current")))[0]
    assert header[95] == "2"


def test_trailer_and_end_records():
    content = _file(
        _transfer(amount_yen=123_456),
        _transfer(amount_yen=1),
        _transfer(amount_yen=9_999_999_999),
    )
    lines = _lines(content)
    assert len(lines) == 6
    assert [line[0] for line in lines] == ["1", "2", "2", "2", "8", "9"]
    assert _fields(lines[4], TRAILER_SPEC) == {
        "データ区分": "8",
        "合計件数": "000003",
        "合計金額": "010000123456",
        "ダミー": " " * 101,
    }
    assert lines[5] == "9" + " " * 119


def test_trailer_sums_the_data_records():
    amounts = [5_000, 12_345, 678, 1_000_000]
    lines = _lines(_file(*(_transfer(amount_yen=amount) for amount in amounts)))
    data = [line for line in lines if line[0] == "2"]
    assert sum(int(line[80:90]) for line in data) == int(lines[-2][7:19]) == sum(amounts)
    assert int(lines[-2][1:7]) == len(data) == len(amounts)


def test_transfers_may_be_any_sequence():
    assert _file(_transfer()) == zengin_transfer_file(
        consignor=CONSIGNOR, transfer_date=TRANSFER_DATE, transfers=(_transfer(),)
    )


# --- half-width conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ガ", "ｶﾞ"),
        ("パ", "ﾊﾟ"),
        ("ッ", "ﾂ"),
        ("ａｂｃ", "ABC"),
        ("ひらがな", "ﾋﾗｶﾞﾅ"),
        ("abc Def", "ABC DEF"),
        ("キャップ", "ｷﾔﾂﾌﾟ"),
        ("ァィゥェォャュョヮヵヶ", "ｱｲｳｴｵﾔﾕﾖﾜｶｹ"),
        ("ヴァイオリン", "ｳﾞｱｲｵﾘﾝ"),
        ("ｷｬｯﾌﾟ", "ｷﾔﾂﾌﾟ"),  # half-width input: small kana still made large
        ("ｶﾞｯｺｳ", "ｶﾞﾂｺｳ"),
        ("ヤマダ\u3000タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),  # full-width space
        ("１２３ＡＢＣ", "123ABC"),
        ("（）．－／，", "().-/,"),
        ("().-/,", "().-/,"),
        ("￥", "\\"),  # byte 0x5C, the yen sign of JIS X 0201
        ("¥", "\\"),
        ("コーヒー", "ｺ-ﾋ-"),  # banks register the long vowel as a hyphen
        ("ｺｰﾋｰ", "ｺ-ﾋ-"),
        ("ヲ", "ｵ"),
        ("ゐゑ", "ｲｴ"),
        ("ア゛", "ｱﾞ"),  # a stand-alone voiced mark
        ("  ヤマダ  ", "ﾔﾏﾀﾞ"),
        ("", ""),
        ("株式会社ヤマダ", "ｶ)ﾔﾏﾀﾞ"),
        ("ヤマダ株式会社", "ﾔﾏﾀﾞ(ｶ"),
        ("ヤマダ株式会社ホンテン", "ﾔﾏﾀﾞ(ｶ)ﾎﾝﾃﾝ"),
        ("㈲ サクラヤ", "ﾕ)ｻｸﾗﾔ"),
        ("サクラヤ（株）", "ｻｸﾗﾔ(ｶ"),
        ("合同会社ハナ", "ﾄﾞ)ﾊﾅ"),
        ("医療法人ミドリ", "ｲ)ﾐﾄﾞﾘ"),
    ],
)
def test_to_halfwidth_kana(text, expected):
    assert to_halfwidth_kana(text) == expected


def test_converted_text_encodes_to_one_byte_per_character():
    converted = to_halfwidth_kana("ぱぴぷぺぽ ガギグゲゴ ｱｲｳ abc ０９ ￥")
    assert len(converted.encode("cp932")) == len(converted)


@pytest.mark.parametrize(
    "text, bad", [("山田", "“山”, “田”"), ("ヤマダ🍞", "“🍞”"), ("ヤマダ・ハナコ", "“・”"), ("A&B", "“&”")]
)
def test_to_halfwidth_kana_rejects_what_a_transfer_cannot_carry(text, bad):
    with translation.override("en"), pytest.raises(ZenginError) as caught:
        to_halfwidth_kana(text)
    assert bad in str(caught.value)
    assert text in str(caught.value)


def test_to_halfwidth_kana_names_the_field():
    with translation.override("en"), pytest.raises(ZenginError, match="account holder"):
        to_halfwidth_kana("山田", field="account holder (kana)")


# --- truncation ----------------------------------------------------------------------------------------


def test_long_holder_name_is_cut_at_30():
    data = _lines(_file(_transfer(holder_kana="ア" * 35)))[1]
    assert data[50:80] == "ｱ" * 30


def test_truncation_does_not_split_a_voiced_pair():
    # ｱ×29 + ｶﾞ is 31 characters: cutting at 30 would leave ｶ without its ﾞ, so the pair goes.
    data = _lines(_file(_transfer(holder_kana="ア" * 29 + "ガ")))[1]
    assert data[50:80] == "ｱ" * 29 + " "
    assert len(data) == 120
    # Semi-voiced too.
    data = _lines(_file(_transfer(holder_kana="ア" * 29 + "パ")))[1]
    assert data[50:80] == "ｱ" * 29 + " "


def test_a_voiced_pair_ending_exactly_at_the_width_is_kept():
    data = _lines(_file(_transfer(holder_kana="ア" * 28 + "ガ" + "ア")))[1]
    assert data[50:80] == "ｱ" * 28 + "ｶﾞ"


def test_long_consignor_and_bank_names_are_cut():
    consignor = dataclasses.replace(CONSIGNOR, name_kana="ア" * 39 + "ダ", branch_name_kana="イ" * 14 + "ブ")
    header = _lines(_file(_transfer(), consignor=consignor))[0]
    assert header[14:54] == "ｱ" * 39 + " "
    assert header[80:95] == "ｲ" * 14 + " "


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("bank_code", "123", "bank code"),
        ("bank_code", "12345", "bank code"),
        ("bank_code", "12a4", "bank code"),
        ("bank_code", "", "bank code"),
        ("bank_code", 1234, "bank code"),
        ("branch_code", "12", "branch code"),
        ("branch_code", "1234", "branch code"),
        ("account_number", "", "account number"),
        ("account_number", "12345678", "account number"),
        ("account_number", "123-456", "account number"),
        ("account_type", "savings", "account type"),
        ("account_type", "1", "account type"),
        ("amount_yen", 0, "amount"),
        ("amount_yen", -500, "amount"),
        ("amount_yen", 10_000_000_000, "amount"),
        ("amount_yen", 1.5, "amount"),
        ("amount_yen", Decimal("100"), "amount"),
        ("amount_yen", True, "amount"),
        ("holder_kana", "山田商店", "account holder"),
        ("holder_kana", "", "account holder"),
        ("holder_kana", "   ", "account holder"),
        ("bank_name_kana", "みずほ銀行", "bank name"),
        ("branch_name_kana", "本店", "branch name"),
        ("customer_code", "S-0001", "customer code"),
        ("customer_code", "12345678901", "customer code"),
    ],
)
def test_invalid_transfer_fields_name_the_payee_and_the_field(field, value, words):
    overrides = {"holder_kana": "ヤマダ", "customer_code": "99", field: value}
    transfers = [_transfer(), _transfer(**overrides)]
    error = _error(transfers=transfers)
    message = str(error)
    assert error.field == field
    assert error.transfer_index == 1
    assert message.startswith("Transfer 2 (")
    payee = overrides["holder_kana"].strip() or "99"  # the name as entered, else the customer code
    assert message.startswith(f"Transfer 2 ({payee}): ")
    assert words in message
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("code", "123456789", "consignor code"),
        ("code", "12345678901", "consignor code"),
        ("name_kana", "", "consignor name"),
        ("name_kana", "商店街振興組合", "consignor name"),
        ("bank_code", "1", "bank code"),
        ("branch_code", "abc", "branch code"),
        ("account_type", "savings", "account type"),
        ("account_number", "", "account number"),
    ],
)
def test_invalid_consignor_fields(field, value, words):
    error = _error(consignor=dataclasses.replace(CONSIGNOR, **{field: value}), transfers=[_transfer()])
    assert str(error).startswith("Consignor: ")
    assert words in str(error)
    assert error.field == field
    assert error.transfer_index is None


def test_no_transfers_is_an_error():
    error = _error(transfers=[])
    assert "no transfers" in str(error)


def test_total_must_fit_in_12_digits():
    error = _error(transfers=[_transfer(amount_yen=9_999_999_999)] * 101)
    assert "1,009,999,999,899" in str(error)


def test_the_largest_total_that_fits():
    transfers = [_transfer(amount_yen=9_999_999_999)] * 100 + [_transfer(amount_yen=99)]
    trailer = _lines(_file(*transfers))[-2]
    assert trailer[1:7] == "000101"
    assert trailer[7:19] == "999999999999"


def test_transfer_date_must_be_a_date():
    error = _error(transfer_date="2026-10-05", transfers=[_transfer()])
    assert "date" in str(error)


def test_messages_follow_the_active_language():
    # Whatever the translation says, the message is built with gettext at raise time and keeps the value.
    with translation.override("ja"), pytest.raises(ZenginError) as caught:
        _file(_transfer(bank_code="12"))
    assert "12" in str(caught.value)
