"""`__in` on integer columns without the numbers no such column holds.

Django leaves out a value beyond the column's range for `=`, `<` and `>` (ticket #27397: the
condition matches nothing) but sends it as it is in `IN (...)`, where SQLite refuses to bind a
Python int beyond 64 bits (OverflowError, a 500). Django admin's multiple choice fields
(a group's permissions, a user's groups) filter `pk__in` on whatever was posted.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerIn(In):
    """IN on an integer column, leaving out the values outside the column's range."""

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            fits = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
            if len(fits) != len(self.rhs):
                narrowed = copy.copy(self)
                narrowed.rhs = fits  # none left: In says the condition matches nothing
                return In.process_rhs(narrowed, compiler, connection)
        return super().process_rhs(compiler, connection)


def integer_lookups_register() -> None:
    """Make IntegerIn the `__in` of every integer column (auto ids included)."""
    IntegerField.register_lookup(IntegerIn)
