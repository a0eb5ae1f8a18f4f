"""Re-encrypt personal data under the newest key of each field."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F

from common import crypto
from common.fields import EncryptedTextField
from members.models import Card, Member

# Every encrypted column this command rewrites, by model.
ENCRYPTED_FIELDS = {
    Member: ("name", "name_kana", "address", "phone", "email", "birth_date"),
    Card: ("number",),
}


def raw(field_name: str) -> ExpressionWrapper:
    """The stored token itself: a plain text output field has no decrypting from_db_value."""
    return ExpressionWrapper(F(field_name), output_field=models.TextField())


class Command(BaseCommand):
    help = (
        "Re-encrypts every encrypted member field (name, kana, address, phone, e-mail, birth date) and every "
        "card number under the newest key of its field (the first of FIELD_KEYS_<FIELD>). Run it after putting "
        "a new key first; once it has finished, the old keys can be removed. Rows are rewritten in batches, "
        "one transaction per batch; it can be run again safely after an interruption. A value that no "
        "configured key decrypts stops the command, naming the field and the row. "
        "The blind-index key (BLIND_INDEX_KEY) is not rotated by this command: that needs every clear value "
        "re-hashed and is out of its scope."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check that every value decrypts, without writing anything."
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        # Keys are read from the settings of this process, not a cache from before a change.
        crypto.reset_key_cache()
        for model, field_names in ENCRYPTED_FIELDS.items():
            rows, values = self.rotate_model(model, field_names, batch_size=batch_size, dry_run=dry_run)
            verb = "checked" if dry_run else "re-encrypted"
            self.stdout.write(f"{model._meta.label}: {rows} rows, {values} values {verb}.")
        self.stdout.write(self.style.SUCCESS("Dry run: every value decrypts." if dry_run else "Done."))

    def rotate_model(self, model, field_names, *, batch_size: int, dry_run: bool) -> tuple[int, int]:
        key_names = {name: self._key_name(model, name) for name in field_names}
        columns = {f"raw_{name}": raw(name) for name in field_names}
        rows = values = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                # Locked until the batch commits: an edit at the desk meanwhile would
                # otherwise be overwritten by the old value, re-encrypted.
                batch = list(
                    model.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .annotate(**columns)
                    .values_list("pk", *columns)[:batch_size]
                )
                if not batch:
                    break
                rotated: dict[str, dict] = {name: {} for name in field_names}
                for pk, *tokens in batch:
                    for name, token in zip(field_names, tokens, strict=True):
                        if token:
                            rotated[name][pk] = self._rotate(model, name, key_names[name], pk, token)
                values += sum(len(tokens) for tokens in rotated.values())
                if not dry_run:
                    self._write(model, field_names, rotated)
                rows += len(batch)
                last_pk = batch[-1][0]
            self.stdout.write(f"  {model._meta.label}: {rows} rows so far")
        return rows, values

    @staticmethod
    def _write(model, field_names, rotated: dict[str, dict]) -> None:
        """Write the batch's new tokens as they are.

        Plain SQL on purpose: the model field would encrypt the token a second
        time, and the ORM's per-row UPDATE (or a CASE over the batch) costs
        more in Python than the rotation itself. NULL leaves a column alone.
        """
        pks = sorted({pk for tokens in rotated.values() for pk in tokens})
        if not pks:
            return
        quote = connection.ops.quote_name
        columns = [model._meta.get_field(name).column for name in field_names]
        assignments = ", ".join(f"{quote(column)} = COALESCE(%s, {quote(column)})" for column in columns)
        sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[rotated[name].get(pk) for name in field_names] + [pk] for pk in pks])

    @staticmethod
    def _key_name(model, field_name: str) -> str:
        field = model._meta.get_field(field_name)
        if not isinstance(field, EncryptedTextField):
            raise CommandError(f"{model._meta.label}.{field_name} is not an encrypted field.")
        return field.key_name

    @staticmethod
    def _rotate(model, field_name: str, key_name: str, pk, token: str) -> str:
        try:
            return crypto.rotate(key_name, token)
        except crypto.DecryptionError:
            raise CommandError(
                f"{model._meta.label}.{field_name} of row id={pk} cannot be decrypted with any key in "
                f"FIELD_KEYS_{key_name.upper()}. Nothing of its batch was written; earlier batches are already "
                "under the newest key. Add the missing key (after the newest one) and run the command again."
            ) from None
