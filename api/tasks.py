"""django-q2 entry points: thin wrappers over the terminal API's services."""

from api.batch import batch_part_apply


def apply_batch_part(part_id: int) -> str:
    """Queued by api.batch for each part of a large offline batch once it is stored, and again by a status
    read when the part's worker died."""
    return batch_part_apply(part_id=part_id)
