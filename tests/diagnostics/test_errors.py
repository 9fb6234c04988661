"""The diagnostics' typed errors say what is wrong and what to do next."""

from console.diagnostics.errors import ColumnNotFound
from console.errors import InvalidInput


def test_column_not_found_lists_at_most_twelve_available_columns():
    err = ColumnNotFound("age", "ref.csv", [f"c{i}" for i in range(14)])
    assert isinstance(err, InvalidInput)
    assert err.message == "column 'age' not found in ref.csv"
    assert err.hint == "available columns: " + ", ".join(f"c{i}" for i in range(12)) + " …"


def test_column_not_found_without_the_available_columns_has_no_hint():
    # the list is optional: without it (or with an empty one) there is nothing to suggest
    assert ColumnNotFound("age", "ref.csv").hint is None
    assert ColumnNotFound("age", "ref.csv", []).hint is None
    assert ColumnNotFound("age", "ref.csv", ["a", "b"]).hint == "available columns: a, b"
