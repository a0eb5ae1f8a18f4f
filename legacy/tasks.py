"""django-q2 entry points for the admin's imports: thin wrappers over legacy.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from legacy.services import batch_check, batch_import, batch_rollback


def _staff(staff_id: int | None):
    return get_user_model().objects.filter(pk=staff_id).first() if staff_id else None


def check_batch(batch_id: int) -> str:
    batch = batch_check(batch_id=batch_id)
    return batch.status if batch else "not waiting for a check"


def import_batch(batch_id: int, staff_id: int | None = None) -> str:
    batch = batch_import(batch_id=batch_id, staff=_staff(staff_id))
    return batch.status if batch else "not ready to import"


def rollback_batch(batch_id: int, staff_id: int | None, reason: str) -> str:
    batch = batch_rollback(batch_id=batch_id, staff=_staff(staff_id), reason=reason)
    return batch.status if batch else "not imported"
