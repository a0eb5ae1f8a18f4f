"""The old system's files are checked before anything is written: a bad row anywhere refuses the whole import,
naming file, row and column in Japanese, and a dry run tells what would be created, reconciled against the
files' own totals."""

import pytest
from django.utils import translation

from legacy.checking import Rejected
from legacy.services import legacy_check, legacy_import
from legacy.tests.helpers import SAMPLE_POINTS, edited, everything, source
from members.models import Member
from points.tests.factories import StoreFactory, make_card

pytestmark = pytest.mark.django_db


def problems_of(programme, files) -> list[str]:
    with translation.override("ja"), pytest.raises(Rejected) as rejected:
        legacy_import(programme=programme, source=source(files))
    return rejected.value.problems.lines()


def test_a_bad_row_refuses_the_whole_import_naming_file_row_and_column_and_writes_nothing(programme, files):
    # given good files but for one lot whose points are not a number
    files = edited(files, "lots.csv", "1000000000000002,,2500,", "1000000000000002,,25OO,")
    before = everything()

    # when it is imported
    problems = problems_of(programme, files)

    # then the import is refused, saying where, and nothing at all was written
    assert problems == ["lots.csv 4 行目：ポイント：1 以上 100,000,000 以下の整数で入力してください。"]
    assert everything() == before


def test_every_problem_of_every_file_is_named(programme, files):
    files = edited(files, "members.csv", "taro@example.jp", "taro@example")
    files = edited(files, "cards.csv", "A0003,programme,1000000000000003,", "A0003,programme,12345,")
    files = edited(files, "lots.csv", "2026/01/15,2030/01/31,S002", "2026/01/15,2025/12/31,S999")
    files = edited(files, "ranks.csv", "A0002,シルバー,", "A0009,プラチナ,")

    problems = problems_of(programme, files)

    assert problems == [
        "members.csv 1 行目：メールアドレス：有効なメールアドレスを入力してください。",
        "cards.csv 5 行目：カード番号：ポイントカードの番号は 16 桁の数字です。",
        "lots.csv 3 行目：有効期限：このポイントは有効期限が過ぎています。旧システムで失効させてから移行してください。",
        "lots.csv 3 行目：発行店舗コード：このポイントプログラムに参加している加盟店に、このコードの店舗はありません。",
        "lots.csv 5 行目：カード番号：このカード番号のカードが cards.csv にありません。",
        "ranks.csv 2 行目：旧会員番号：この旧会員番号の会員が members.csv にありません。",
        "ranks.csv 2 行目：ランク："
        "このポイントプログラムにこの名前のランクはありません（レギュラー、シルバー、ゴールド）。",
    ]


def test_unknown_and_missing_columns_are_named(programme, files):
    files = edited(files, "lots.csv", "ポイント,獲得日", "ポイント数,獲得日")

    problems = problems_of(programme, files)

    assert problems == ["lots.csv：ポイント数：知らない列です。", "lots.csv：ポイント：この列がありません。"]


def test_a_member_without_terms_version_but_with_personal_data_is_refused(programme, files):
    files = edited(files, "members.csv", "male,v3,", "male,,")

    problems = problems_of(programme, files)

    assert problems == ["members.csv 1 行目：同意した規約バージョン：会員が同意した規約バージョンを入力してください。"]


def test_a_card_already_in_the_system_is_refused_with_its_member(programme, files):
    card = make_card(card_type="programme")
    number = card.number
    files = edited(files, "cards.csv", "1000000000000003", number)
    files = edited(files, "lots.csv", "1000000000000003", number)

    problems = problems_of(programme, files)

    assert problems == [
        f"cards.csv 5 行目：カード番号：このカード番号はすでに登録されています（会員 {card.member.pseudonym}）。"
    ]


def test_a_store_outside_the_programme_is_refused(programme, files):
    StoreFactory(code="S999")
    files = edited(files, "lots.csv", "2029/04/30,S001", "2029/04/30,S999")

    assert problems_of(programme, files) == [
        "lots.csv 1 行目：発行店舗コード：このポイントプログラムに参加している加盟店に、このコードの店舗はありません。"
    ]


def test_control_totals_that_disagree_with_the_rows_refuse_the_import(programme, files):
    files = edited(files, "totals.csv", "合計,,4130,5", "合計,,4131,5")
    files = edited(files, "totals.csv", "ランク,シルバー,2500,1", "ランク,シルバー,2500,2")

    problems = problems_of(programme, files)

    assert problems == [
        "totals.csv 7 行目：件数：ランク シルバー の会員：明細の件数は 1 件で、2 件ではありません。",
        "totals.csv 9 行目：ポイント：すべての明細：明細の合計は 4,130 ポイントで、4,131 ポイントではありません。",
    ]


def test_a_month_missing_from_the_control_totals_is_named(programme, files):
    files = edited(files, "totals.csv", "有効期限月,2030-01,50,1\n", "")
    files = edited(files, "totals.csv", "合計,,4130,5", "合計,,4130,5")

    assert problems_of(programme, files) == [
        "totals.csv：有効期限月 2030-01 のポイント の管理合計がありません（明細の合計は 50 ポイント）。"
    ]


def test_the_dry_run_reports_what_would_be_created_reconciled_with_the_files_totals(programme, files):
    before = everything()

    report = legacy_check(programme=programme, source=source(files))

    assert everything() == before
    assert report["dry_run"] is True
    assert report["counts"] == {
        "members": 3,
        "registered": 2,
        "unregistered": 1,
        "cards": 5,
        "blocked_cards": 1,
        "accounts": 3,
        "lots": 5,
        "points": SAMPLE_POINTS,
        "ranks": 2,
    }
    by_month = {
        row["key"]: (row["made_count"], row["made_points"], row["control_points"]) for row in report["by_month"]
    }
    assert by_month == {
        "2029-04": (1, 1_200, 1_200),
        "2029-06": (1, 2_500, 2_500),
        "2029-12": (1, 300, 300),
        "2030-01": (1, 50, 50),
        "2030-03": (1, 80, 80),
    }
    by_rank = {row["key"]: (row["made_count"], row["made_points"], row["control_points"]) for row in report["by_rank"]}
    assert by_rank == {"ゴールド": (1, 1_550, 1_550), "シルバー": (1, 2_500, 2_500), "": (1, 80, 80)}
    assert report["total"]["made_points"] == report["total"]["control_points"] == SAMPLE_POINTS
    assert report["reconciled"] is True


def test_without_control_totals_the_rows_are_the_files_totals(programme, files):
    del files["totals.csv"]

    report = legacy_check(programme=programme, source=source(files))

    assert report["controls"] is False
    assert report["total"]["points"] == report["total"]["made_points"] == SAMPLE_POINTS
    assert report["reconciled"] is True


def test_a_shift_jis_file_is_read_as_such(programme, files):
    # given the members file as Excel in Japan saves it
    files["members.csv"] = files["members.csv"].decode("utf-8").encode("cp932")
    files["ranks.csv"] = files["ranks.csv"].decode("utf-8").encode("cp932")

    # when it is imported
    legacy_import(programme=programme, source=source(files))

    # then the names are read right
    names = {member.name for member in Member.objects.all()}
    assert names == {"山田 太郎", "佐藤 花子", ""}


def test_a_file_in_neither_encoding_is_refused(programme, files):
    files["members.csv"] = files["members.csv"].decode("utf-8").encode("utf-16")

    assert problems_of(programme, files) == [
        "members.csv：ファイルの文字コードが UTF-8 でも Shift_JIS（cp932）でもありません。"
    ]
