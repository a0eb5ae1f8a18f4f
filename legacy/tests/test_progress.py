"""While the import's transaction is open, its page still learns how far it has got (PostgreSQL: the progress is
written from a connection of its own, which never waits for the import's locks)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from legacy import services
from legacy.models import ImportBatch
from legacy.services import batch_check, batch_import, legacy_upload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_page_sees_the_phases_of_an_import_while_its_transaction_is_open(
    programme, files, staff, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    uploads = {name: SimpleUploadedFile(name, data) for name, data in files.items()}
    batch = legacy_upload(programme=programme, files=uploads, staff=staff)
    batch_check(batch_id=batch.pk)
    seen = []
    reader = connections.create_connection("default")
    real = services.BatchProgress.__call__

    def watched(self, phase, done=0, total=0):
        real(self, phase, done, total)
        if phase.startswith("writing"):
            # What the batch's page would read now, from another connection.
            with reader.cursor() as cursor:
                cursor.execute("SELECT status, progress ->> 'phase' FROM legacy_importbatch WHERE id = %s", [batch.pk])
                seen.append(cursor.fetchone())

    monkeypatch.setattr(services.BatchProgress, "__call__", watched)
    monkeypatch.setattr(services.BatchProgress, "INTERVAL", 0)
    try:
        batch_import(batch_id=batch.pk, staff=staff)
    finally:
        reader.close()

    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.IMPORTED
    assert ("importing", "writing members") in seen
    assert ("importing", "writing ranks") in seen
