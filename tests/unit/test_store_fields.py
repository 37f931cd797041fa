"""Field plans and the projection SQL (csdomain.store.fields, issue #15 item 7).

The rules checked: a field path names the model's fields (nested through attrs-typed
fields and tuples of attrs objects); anything else is refused at ``fields.<i>``; the SQL
names only identifier members and selects one JSON array per row.
"""

from __future__ import annotations

import pytest

import csdomain
from csdomain.complaints import Complaint
from csdomain.errors import ValidationError
from csdomain.store import Filter, ProjectingTransaction
from csdomain.store.fields import field_plan, members_sql
from csdomain_postgres.backend import POSTGRES
from csdomain_sqlite.backend import SQLITE


def test_a_plan_asks_the_backend_for_each_top_level_member_once() -> None:
    plan = field_plan(Complaint, ["history.to", "status", "history.at", "approval.by"])
    assert plan.members == ("history", "status", "approval")
    assert field_plan(Complaint, ("status",)) is field_plan(Complaint, ["status"])


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        (["status", "mood"], "fields.1"),
        (["history.mood"], "fields.0"),
        (["status.value"], "fields.0"),
        (["history..to"], "fields.0"),
        ([None], "fields.0"),
        ([], "fields"),
        ("status", "fields"),
    ],
)
def test_a_path_that_is_not_a_field_is_refused_naming_it(fields: object, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        field_plan(Complaint, fields)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == path


def test_sqlite_reads_the_members_with_one_json_extract_and_the_usual_filters() -> None:
    sql, params = members_sql(
        SQLITE,
        "complaint",
        ["status", "history"],
        [Filter("status", "eq", "closed")],
        [("received_at", True), ("key", False)],
        10,
        5,
    )
    assert sql.startswith("SELECT json_extract(CAST(doc AS TEXT), '$.status', '$.history') FROM")
    assert "WHERE i_status = ?" in sql
    assert "LIMIT ? OFFSET ?" in sql
    assert params == ["closed", 10, 5]
    single, _ = members_sql(SQLITE, "complaint", ["status"], [], [("key", False)], None, 0)
    assert single.startswith("SELECT json_array(CAST(doc AS TEXT) -> '$.status') FROM")


def test_postgres_builds_one_jsonb_array_and_keeps_the_raw_column() -> None:
    sql, _ = members_sql(POSTGRES, "complaint", ["status", "cause"], [], [("key", False)], None, 0)
    assert sql.startswith("SELECT jsonb_build_array(doc -> 'status', doc -> 'cause'), raw FROM")


@pytest.mark.parametrize("member", ["a'b", "a.b", "", "1a", "a b"])
def test_a_member_that_is_not_an_identifier_never_reaches_the_sql(member: str) -> None:
    with pytest.raises(ValidationError):
        members_sql(SQLITE, "complaint", [member], [], [("key", False)], None, 0)


def test_the_bundled_sql_backends_have_the_capability() -> None:
    for url in ("sqlite://", "memory://"):
        store = csdomain.open_store(url)
        try:
            with store.unit_of_work(readonly=True) as uow:
                assert isinstance(uow.tx, ProjectingTransaction)
        finally:
            store.close()
