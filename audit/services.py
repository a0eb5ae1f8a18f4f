from dataclasses import dataclass

from django.db import models, transaction

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


@dataclass(frozen=True)
class PromotionSummaries:
    """What the audit trail says of a promotion's save (untranslated; the trail shows them translated)."""

    created: str
    activated: str
    changed_running: str
    changed: str


ACTIVE = "active"


def audited_promotion_save(obj: models.Model, *, staff, changed: list[str] | None, summaries: PromotionSummaries):
    """Save a campaign, a coupon template or a rally as an operator changed it, with its audit row in the same
    transaction saying whether it was made, started, or changed while (or after) running: the one save
    helper of the three promotions' services."""
    with transaction.atomic():
        adding = obj.pk is None
        was = None if adding else type(obj).objects.filter(pk=obj.pk).values_list("status", flat=True).first()
        if adding:
            obj.created_by = staff
        obj.save()
        if adding:
            summary = summaries.created
        elif was != obj.status and obj.status == ACTIVE:
            summary = summaries.activated
        elif ACTIVE in (obj.status, was):
            summary = summaries.changed_running
        else:
            summary = summaries.changed
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
            obj=obj,
            summary=summary,
            detail={"changed": changed or [], "status": obj.status},
        )
    return obj
