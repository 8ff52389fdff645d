"""schema_diff: added, removed, retyped and reordered columns."""

from __future__ import annotations

import pyarrow as pa

from mlaudit.data import SchemaDiff, schema_diff

OLD = pa.schema({"id": pa.int64(), "age": pa.int32(), "name": pa.string(), "city": pa.string()})


def test_no_change() -> None:
    diff = schema_diff(OLD, OLD)
    assert not diff.changed and diff == SchemaDiff()
    assert str(diff) == "no schema change"


def test_added_removed_retyped() -> None:
    new = pa.schema({"id": pa.int64(), "age": pa.float64(), "name": pa.string(), "zip": pa.string()})
    diff = schema_diff(OLD, new)
    assert diff.changed
    assert diff.added == (("zip", "string"),)
    assert diff.removed == (("city", "string"),)
    assert diff.retyped == (("age", "int32", "double"),)
    assert not diff.reordered
    assert str(diff) == "+ zip (string); - city (string); ~ age int32 -> double"
    assert "\n" not in str(diff)
    assert diff.to_dict() == {
        "added": [{"name": "zip", "type": "string"}],
        "removed": [{"name": "city", "type": "string"}],
        "retyped": [{"name": "age", "old": "int32", "new": "double"}],
        "reordered": False,
    }


def test_reordered_only() -> None:
    new = pa.schema([OLD.field("name"), OLD.field("id"), OLD.field("age"), OLD.field("city")])
    diff = schema_diff(OLD, new)
    assert diff.changed and diff.reordered
    assert (diff.added, diff.removed, diff.retyped) == ((), (), ())
    assert str(diff) == "columns reordered"


def test_nullability_is_not_a_change() -> None:
    new = pa.schema([f.with_nullable(False) for f in OLD])
    assert not schema_diff(OLD, new).changed


def test_empty_schemas() -> None:
    diff = schema_diff(pa.schema([]), OLD)
    assert [n for n, _ in diff.added] == OLD.names and not diff.removed


def test_data_package_all_lists_exactly_its_public_names() -> None:
    import mlaudit.data as data

    kinds = ("module", "_Feature")  # submodules and `from __future__ import annotations`
    public = {n for n in dir(data) if not n.startswith("_") and type(getattr(data, n)).__name__ not in kinds}
    assert set(data.__all__) == public
