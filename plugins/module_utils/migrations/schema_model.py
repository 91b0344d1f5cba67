# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the migration files linted so far say about each column: its type and nullability.

Some verdicts depend on the column before the migration: ``varchar(50)`` to ``varchar(200)``
widens (the old version is unaffected) while ``int`` to ``varchar(200)`` does not, and
``DROP DEFAULT`` breaks the old version's INSERTs only on a NOT NULL column.  The lint reads a
migration directory in version order, so the files before a migration usually say what it
changes; when they do not, the column is unknown and the verdict is the cautious one.
"""

from __future__ import annotations

try:
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType, ObjectType
except ImportError:  # pragma: no cover - split_statements() reports the missing library
    ast = None

# Types whose name means "text of any length" and the bounded ones they widen from.
UNBOUNDED_STRINGS = {"text", "varchar"}


def type_signature(type_node):
    """``(name, (typmods...))`` of a pglast TypeName, e.g. ``("varchar", (50,))``; None for arrays
    or %TYPE (not modelled)."""
    if type_node is None or not type_node.names or type_node.arrayBounds or type_node.pct_type:
        return None
    mods = []
    for mod in type_node.typmods or ():
        value = getattr(getattr(mod, "val", None), "ival", None)
        if value is None:
            return None
        mods.append(value)
    return type_node.names[-1].sval, tuple(mods)


def widens(old, new):
    """True when changing a column from type ``old`` to ``new`` keeps every value and needs no
    rewrite (PostgreSQL's binary-coercible cases the old version cannot notice)."""
    if old is None or new is None:
        return False
    (old_name, old_mods), (new_name, new_mods) = old, new
    if old == new:
        return True
    if old_name in UNBOUNDED_STRINGS and new_name in UNBOUNDED_STRINGS:
        if new_name == "text" or not new_mods:
            return True  # varchar(n)/varchar/text -> text or unbounded varchar
        return old_name == "varchar" and bool(old_mods) and new_mods[0] >= old_mods[0]
    if old_name == new_name == "numeric" and old_mods:
        if not new_mods:
            return True
        old_scale = old_mods[1] if len(old_mods) > 1 else 0
        new_scale = new_mods[1] if len(new_mods) > 1 else 0
        return new_scale == old_scale and new_mods[0] >= old_mods[0]
    return False


def _not_null(coldef):
    return bool(coldef.is_not_null) or any(
        c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY) for c in coldef.constraints or ())


class SchemaModel:
    """Columns of the tables the linted files created: ``{table: {column: {type, not_null}}}``.

    Names are unqualified (a schema-qualified and a bare name of the same table are one).
    """

    def __init__(self):
        self.tables = {}

    def column(self, table, column):
        """``{"type": ..., "not_null": ...}`` of a known column, else None."""
        return self.tables.get(table, {}).get(column)

    def _add_column(self, table, coldef):
        self.tables.setdefault(table, {})[coldef.colname] = {
            "type": type_signature(coldef.typeName), "not_null": _not_null(coldef)}

    def apply(self, node):
        """Update the model with one statement (called after the statement was linted)."""
        if isinstance(node, ast.CreateStmt) and node.relation is not None:
            table = node.relation.relname
            self.tables[table] = {}
            for element in node.tableElts or ():
                if isinstance(element, ast.ColumnDef):
                    self._add_column(table, element)
                elif isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_PRIMARY:
                    for key in element.keys or ():
                        if key.sval in self.tables[table]:
                            self.tables[table][key.sval]["not_null"] = True
        elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            self._alter(node.relation.relname, node.cmds or ())
        elif isinstance(node, ast.RenameStmt):
            self._rename(node)
        elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            for obj in node.objects or ():
                self.tables.pop(obj[-1].sval, None)

    def _alter(self, table, cmds):
        columns = self.tables.get(table)
        if columns is None:
            return
        for cmd in cmds:
            subtype = cmd.subtype
            if subtype == AlterTableType.AT_AddColumn:
                self._add_column(table, cmd.def_)
            elif subtype == AlterTableType.AT_DropColumn:
                columns.pop(cmd.name, None)
            elif cmd.name in columns:
                if subtype == AlterTableType.AT_AlterColumnType:
                    columns[cmd.name]["type"] = type_signature(cmd.def_.typeName)
                elif subtype == AlterTableType.AT_SetNotNull:
                    columns[cmd.name]["not_null"] = True
                elif subtype == AlterTableType.AT_DropNotNull:
                    columns[cmd.name]["not_null"] = False

    def _rename(self, node):
        if node.renameType == ObjectType.OBJECT_TABLE and node.relation is not None:
            if node.relation.relname in self.tables:
                self.tables[node.newname] = self.tables.pop(node.relation.relname)
        elif node.renameType == ObjectType.OBJECT_COLUMN and node.relation is not None:
            columns = self.tables.get(node.relation.relname, {})
            if node.subname in columns:
                columns[node.newname] = columns.pop(node.subname)
