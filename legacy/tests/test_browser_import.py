"""The secretariat brings the sample old system over in a real browser: upload the files, read the dry run's
reconciliation, import, and find the batch imported. The queue runs in sync mode, so each job runs within the
request that queues it."""

import pytest
from django_q.conf import Conf

from legacy.models import ImportBatch
from legacy.tests.helpers import SAMPLE
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from ranks.models import Rank

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretariat_checks_and_imports_an_old_system(page, live_server, admin_login, monkeypatch, settings, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.MEDIA_ROOT = tmp_path / "media"
    programme = ProgrammeFactory(code="DEPT", name="百貨店ポイント")
    for code in ("S001", "S002"):
        join(StoreFactory(code=code), programme)
    for name, threshold in (("レギュラー", 0), ("シルバー", 50_000), ("ゴールド", 100_000)):
        Rank.objects.create(programme=programme, name=name, threshold_yen=threshold)
    admin_login()

    page.goto(f"{live_server.url}/admin/legacy/importbatch/")
    page.click("#legacy-new")
    page.select_option("#id_programme", str(programme.pk))
    for name in ("members", "cards", "lots", "ranks", "totals"):
        page.set_input_files(f"#id_{name}", str(SAMPLE / f"{name}.csv"))
    with page.expect_navigation():
        page.click("#legacy-form input[type=submit]")

    assert "すべての数字がファイルと一致しています。" in page.inner_text("#legacy-reconciled")
    assert "2029-04" in page.inner_text("#legacy-by-month")
    assert "ゴールド" in page.inner_text("#legacy-by-rank")

    page.click("#legacy-import")
    with page.expect_navigation():
        page.click("#legacy-form input[type=submit]")

    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert "取込で作成したもの。" in page.inner_text("#legacy-report")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.locator("#legacy-rollback").count() == 1
