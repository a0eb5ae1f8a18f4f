"""The secretariat brings an old system over from the admin: upload (checked by a background job, a dry run
with its reconciliation on the batch's page), import (a background job, progress on the page), rollback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_q.conf import Conf

from legacy.models import ImportBatch, ImportFile, LegacyMember
from legacy.tests.helpers import edited
from members.models import Member
from points.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _worker_in_process(monkeypatch, settings, tmp_path):
    # django-q2 runs each task in the request that queues it, as a worker would; files go to a throwaway folder.
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, programme, files):
    fields = {"programme": programme.pk}
    for name, data in files.items():
        fields[name.removesuffix(".csv")] = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(reverse("admin:legacy_importbatch_new"), fields, follow=True)


def test_the_secretariat_checks_then_imports_then_rolls_back(secretariat_client, programme, files):
    # given the upload page
    page = secretariat_client.get(reverse("admin:legacy_importbatch_changelist"))
    assert "旧システムから移行する" in page.content.decode()

    # when the files are uploaded
    page = upload(secretariat_client, programme, files)

    # then they were checked as a dry run: nothing written, the reconciliation shown
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.CHECKED
    assert not Member.objects.exists()
    text = page.content.decode()
    assert "試行：取り込むと作成されるもの。" in text
    assert "すべての数字がファイルと一致しています。" in text
    assert "有効期限月ごとのポイント" in text and "ランクごとのポイント" in text
    assert "4,130 pt" in text

    # when the secretariat imports it
    confirm = secretariat_client.get(reverse("admin:legacy_importbatch_import", args=[batch.pk]))
    assert "会員 3 件、カード 5 件、ポイント明細 5 件（4,130 ポイント）、ランク 2 件" in confirm.content.decode()
    page = secretariat_client.post(reverse("admin:legacy_importbatch_import", args=[batch.pk]), follow=True)

    # then everything is written, the page says it reconciles, and the uploaded files are gone
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert Member.objects.count() == 3
    text = page.content.decode()
    assert "取込で作成したもの。" in text and "すべての数字がファイルと一致しています。" in text
    assert "取込済み" in text
    assert set(ImportFile.objects.values_list("file", flat=True)) == {""}
    assert ImportFile.objects.count() == 5

    # when it is rolled back with a reason
    page = secretariat_client.post(
        reverse("admin:legacy_importbatch_rollback", args=[batch.pk]), {"reason": "ファイルの誤り"}, follow=True
    )

    # then it is taken back whole
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.ROLLED_BACK
    assert Entry.objects.filter(kind=Entry.Kind.IMPORT, points__lt=0).count() == 5
    assert "取消済み" in page.content.decode()


def test_a_file_with_a_bad_row_is_rejected_on_its_page_and_its_files_forgotten(secretariat_client, programme, files):
    files = edited(files, "lots.csv", "2025/04/10", "2025/04/31")

    page = upload(secretariat_client, programme, files)

    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED
    text = page.content.decode()
    assert "ファイルに不備が 1 件あるため取り込みませんでした。何も書き込まれていません。" in text
    assert "lots.csv 1 行目：獲得日：日付は YYYY-MM-DD か YYYY/MM/DD の形で入力してください。" in text
    assert 'id="legacy-import"' not in text
    assert set(ImportFile.objects.values_list("file", flat=True)) == {""}
    assert not Member.objects.exists()


def test_a_refused_rollback_says_why_on_the_page(secretariat_client, programme, files, store):
    from points.services import points_spend

    upload(secretariat_client, programme, files)
    batch = ImportBatch.objects.get()
    secretariat_client.post(reverse("admin:legacy_importbatch_import", args=[batch.pk]))
    card = Member.objects.get(pk=LegacyMember.objects.get(legacy_id="A0001").member_id).cards.order_by("pk").first()
    points_spend(card=card, store=store, points=10, idempotency_key="spent")

    page = secretariat_client.post(
        reverse("admin:legacy_importbatch_rollback", args=[batch.pk]), {"reason": "ファイルの誤り"}, follow=True
    )

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert "取消はできませんでした：この移行は取り消せません。" in page.content.decode()


def test_operators_cannot_bring_an_old_system_over(operator_client, auditor_client, programme, files):
    assert operator_client.get(reverse("admin:legacy_importbatch_new")).status_code == 403
    assert auditor_client.get(reverse("admin:legacy_importbatch_new")).status_code == 403
    # The auditor reads the imports; the button to start one is not shown.
    page = auditor_client.get(reverse("admin:legacy_importbatch_changelist"))
    assert page.status_code == 200
    assert "旧システムから移行する" not in page.content.decode()
