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

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.statements import (
    last_name,
    node_of,
    relname,
)

# Types whose name means "text of any length" and the bounded ones they widen from.
UNBOUNDED_STRINGS = {"text", "varchar"}


def type_signature(type_node):
    """``(name, (typmods...))`` of a TypeName's fields, e.g. ``("varchar", (50,))``; None for
    arrays or %TYPE (not modelled), or typmods other than integer constants."""
    if type_node is None:
        return None
    names = type_node.get("names")
    if not names or type_node.get("arrayBounds") or type_node.get("pct_type"):
        return None
    typmods = type_node.get("typmods")
    if not typmods:  # most columns: called for each one the files create
        return last_name(names), ()
    mods = []
    for mod in typmods:
        value = mod.get("A_Const", {}).get("ival")  # {"ival": 50}; {} is 0
        if value is None:
            return None
        mods.append(value.get("ival", 0))
    return last_name(names), tuple(mods)


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
    if coldef.get("is_not_null"):
        return True
    for constraint in coldef.get("constraints", ()):  # a loop, not any(): this runs for every column
        if constraint["Constraint"]["contype"] in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            return True
    return False


def _column(coldef):
    """What the model knows of a column, from its ColumnDef's fields."""
    return {"type": type_signature(coldef.get("typeName")), "not_null": _not_null(coldef)}


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
        self.tables.setdefault(table, {})[coldef.get("colname")] = _column(coldef)

    def apply(self, kind, node):
        """Update the model with one statement, its ``kind`` and fields (called after the
        statement was linted)."""
        if kind == "CreateStmt" and node.get("relation") is not None:
            table = relname(node["relation"])
            columns = self.tables[table] = {}
            for element in node.get("tableElts", ()):
                coldef = element.get("ColumnDef")  # each element is {"ColumnDef": ...} or {"Constraint": ...}
                if coldef is not None:
                    columns[coldef.get("colname")] = _column(coldef)
                    continue
                element_kind, fields = node_of(element)
                if element_kind == "Constraint" and fields["contype"] == "CONSTR_PRIMARY":
                    for key in fields.get("keys", ()):
                        name = key["String"].get("sval", "")
                        if name in columns:
                            columns[name]["not_null"] = True
        elif kind == "AlterTableStmt" and node.get("relation") is not None:
            self._alter(relname(node["relation"]), node.get("cmds", ()))
        elif kind == "RenameStmt":
            self._rename(node)
        elif kind == "DropStmt" and node["removeType"] == "OBJECT_TABLE":
            for obj in node.get("objects", ()):
                self.tables.pop(last_name(obj["List"]["items"]), None)

    def _alter(self, table, cmds):
        columns = self.tables.get(table)
        if columns is None:
            return
        for item in cmds:
            cmd = item["AlterTableCmd"]
            subtype, name = cmd["subtype"], cmd.get("name")
            if subtype == "AT_AddColumn":
                self._add_column(table, cmd["def"]["ColumnDef"])
            elif subtype == "AT_DropColumn":
                columns.pop(name, None)
            elif name in columns:
                if subtype == "AT_AlterColumnType":
                    columns[name]["type"] = type_signature(cmd["def"]["ColumnDef"].get("typeName"))
                elif subtype == "AT_SetNotNull":
                    columns[name]["not_null"] = True
                elif subtype == "AT_DropNotNull":
                    columns[name]["not_null"] = False

    def _rename(self, node):
        relation = node.get("relation")
        if node["renameType"] == "OBJECT_TABLE" and relation is not None:
            if relname(relation) in self.tables:
                self.tables[node.get("newname")] = self.tables.pop(relname(relation))
        elif node["renameType"] == "OBJECT_COLUMN" and relation is not None:
            columns = self.tables.get(relname(relation), {})
            if node.get("subname") in columns:
                columns[node.get("newname")] = columns.pop(node.get("subname"))
