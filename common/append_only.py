"""Migration operations that make a table append-only, or some of its columns fixed, on PostgreSQL.

UPDATE and DELETE raise; TRUNCATE (used only by test teardown and a full
reset) is a statement-level operation and is left alone. On SQLite the
code's discipline is the only guard.
"""

from django.db import migrations


class _RowTrigger(migrations.operations.base.Operation):
    """A BEFORE UPDATE OR DELETE trigger on `table` whose function body is `_body()`. Reversible."""

    reversible = True
    suffixes = ("", "")

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass

    def _names(self):
        return tuple(f"{self.table}_{suffix}" for suffix in self.suffixes)

    def _body(self) -> str:
        raise NotImplementedError

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        function, trigger = self._names()
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
            BEGIN
                {self._body()}
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


class MakeAppendOnly(_RowTrigger):
    suffixes = ("append_only", "refuse_change")

    def _body(self) -> str:
        return f"""
                RAISE EXCEPTION USING
                    MESSAGE = TG_OP || ' on {self.table} refused: the table is append-only',
                    ERRCODE = 'restrict_violation';"""

    def describe(self):
        return f"Make {self.table} append-only"


class MakeColumnsFixed(_RowTrigger):
    """Refuse DELETE on `table` and any UPDATE that changes one of `columns`; its other columns (a lot's
    remainder) may still change."""

    suffixes = ("fixed_columns", "refuse_column_change")

    def __init__(self, table: str, columns: tuple[str, ...]):
        super().__init__(table)
        self.columns = tuple(columns)

    def _body(self) -> str:
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in self.columns)
        return f"""
                IF TG_OP = 'DELETE' OR {changed} THEN
                    RAISE EXCEPTION USING
                        MESSAGE = TG_OP || ' on {self.table} refused: no row may go, and none of '
                                  || '{", ".join(self.columns)} may change',
                        ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;"""

    def describe(self):
        return f"Fix columns {', '.join(self.columns)} of {self.table}"
