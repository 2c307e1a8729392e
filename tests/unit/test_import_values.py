"""Every whole-number field of an import fits its column: PostgreSQL's
Integer holds 32 bits and BigInteger 64 (SQLite would take 64 bits in
either and say nothing)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cs_cli.services.importers.entities import ENTITIES

_LARGEST = {sa.SmallInteger: 2**15 - 1, sa.BigInteger: 2**63 - 1, sa.Integer: 2**31 - 1}


def _whole_number_fields():
    for spec in ENTITIES.values():
        for field in spec.fields:
            column = spec.model.__table__.c.get(field.column)
            if field.ref is None and column is not None and isinstance(column.type, sa.Integer):
                largest = next(v for t, v in _LARGEST.items() if isinstance(column.type, t))
                yield pytest.param(field, largest, id=f"{spec.name}.{field.name}")


@pytest.mark.parametrize(("field", "largest"), list(_whole_number_fields()))
def test_a_whole_number_beyond_its_column_is_refused(field, largest):
    with pytest.raises(ValueError, match="is more than"):
        field.convert(str(largest + 1))
    with pytest.raises(ValueError, match="is more than"):
        field.convert(largest + 1)  # as JSONL gives it
