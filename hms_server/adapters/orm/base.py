"""Declarative base with a naming convention so constraint names are stable in migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, inspect, update
from sqlalchemy.orm import DeclarativeBase, Session, object_session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def touch(row: Base) -> None:
    """Count an edit even if it changed no column: the next flush UPDATEs the row, so
    SQLAlchemy moves its ``version`` on (clients holding the old one get 409)."""
    mapper = inspect(row).mapper
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        if (
            column is not mapper.version_id_col
            and not column.primary_key
            and column.computed is None
            and attribute.key in row.__dict__
        ):
            flag_modified(row, attribute.key)  # rewritten with its own value
            return
    raise ValueError(f"{type(row).__name__} has no plain column to touch")


def write_quietly(row: Base, **values: Any) -> None:
    """Store bookkeeping columns (a sign-in's failure counters) with a plain UPDATE that
    neither checks nor moves the row's ``version``: they are not an edit a client could be
    holding a stale copy of. The loaded object is updated to match."""
    session: Session | None = object_session(row)
    assert session is not None, "write_quietly needs a row loaded in a session"
    mapper = inspect(row).mapper
    table = mapper.local_table
    assert isinstance(table, Table)
    identity = mapper.primary_key_from_instance(row)
    session.execute(
        update(table)
        .where(*(c == v for c, v in zip(mapper.primary_key, identity, strict=True)))
        .values(**values)
    )
    for key, value in values.items():
        set_committed_value(row, key, value)
