"""A migration operation that makes a table append-only on PostgreSQL.

UPDATE and DELETE raise; TRUNCATE (used only by test teardown and a full
reset) is a statement-level operation and is left alone. On SQLite the
code's discipline is the only guard.
"""

from django.db import migrations


class MakeAppendOnly(migrations.operations.base.Operation):
    reversible = True

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass

    def _names(self):
        return f"{self.table}_append_only", f"{self.table}_refuse_change"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        function, trigger = self._names()
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION USING
                    MESSAGE = TG_OP || ' on {self.table} refused: the table is append-only',
                    ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {self.table}
                FOR EACH ROW EXECUTE FUNCTION {function}();
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        function, trigger = self._names()
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {trigger} ON {self.table}; DROP FUNCTION IF EXISTS {function}();"
        )

    def describe(self):
        return f"Make {self.table} append-only"
