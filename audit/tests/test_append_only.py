import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def event(db):
    return audit_record(actor=None, action=AuditEvent.Action.ACTION, object_type="test", summary="before")


def test_database_refuses_to_update_an_audit_event(event):
    # when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET summary = 'after' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.summary == "before"


def test_database_refuses_to_delete_an_audit_event(event):
    # when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()
