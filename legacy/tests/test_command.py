"""manage.py import_legacy DIR --programme CODE [--dry-run]."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from legacy.models import ImportBatch
from legacy.tests.helpers import SAMPLE, everything
from members.models import Member

pytestmark = pytest.mark.django_db


def test_the_dry_run_prints_the_reconciliation_and_writes_nothing(programme, capsys):
    before = everything()

    call_command("import_legacy", str(SAMPLE), "--programme", "DEPT", "--dry-run")

    out = capsys.readouterr().out
    assert "会員 3 件（登録済み 2 件）、カード 5 件、ポイント明細 5 件、4,130 ポイント、ランク 2 件" in out
    assert "2029-04：ファイルの明細 1 件 / 1,200 pt、作成予定 1 件 / 1,200 pt、totals.csv 1,200 pt" in out
    assert "ランクなし：ファイルの明細 1 件 / 80 pt、作成予定 1 件 / 80 pt、totals.csv 80 pt" in out
    assert "突合：すべて一致しました。" in out
    assert everything() == before


def test_the_import_writes_and_says_its_batch(programme, capsys):
    call_command("import_legacy", str(SAMPLE), "--programme", "DEPT")

    batch = ImportBatch.objects.get()
    assert f"移行 {batch.pk} として取り込みました" in capsys.readouterr().out
    assert batch.source == str(SAMPLE)
    assert Member.objects.count() == 3


def test_refused_files_are_listed_and_the_command_fails(programme, tmp_path, capsys):
    for path in SAMPLE.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    lots = tmp_path / "lots.csv"
    lots.write_text(lots.read_text().replace("2025/04/10", "2025/13/10"))

    with pytest.raises(CommandError, match="ファイルに不備があるため取り込みませんでした（1 件）"):
        call_command("import_legacy", str(tmp_path), "--programme", "DEPT")

    problem = "lots.csv 1 行目：獲得日：日付は YYYY-MM-DD か YYYY/MM/DD の形で入力してください。"
    assert problem in capsys.readouterr().err
    assert not ImportBatch.objects.exists()


def test_an_unknown_programme_or_directory_is_refused(programme, tmp_path):
    with pytest.raises(CommandError, match="コード NONE のポイントプログラムはありません"):
        call_command("import_legacy", str(SAMPLE), "--programme", "NONE")
    with pytest.raises(CommandError, match="はディレクトリではありません"):
        call_command("import_legacy", str(tmp_path / "missing"), "--programme", "DEPT")
