from django.db import models

from audit.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    summary: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        summary=summary[:300],
        detail=detail or {},
    )
