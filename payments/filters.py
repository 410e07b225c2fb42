"""The ledger's filters (a django-filter FilterSet over the query string).

An invalid value (a date outside FILTER_DATE_RANGE, a choice not offered) is reported next to its
field and counts as not given: the FilterSet filters by the form's cleaned data only.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from cases.filters import assignable_users, filter_date_in_range
from cases.models import LifecycleChoices
from payments.models import Payment


def _date(label: str, lookup: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        field_name="date",
        lookup_expr=lookup,
        label=label,
        validators=[filter_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class LedgerFilterSet(django_filters.FilterSet):
    """The ledger's query string: dates, currency, who received it, commission, agent, lifecycle, state."""

    date_from = _date("From", "gte")
    date_to = _date("To", "lte")
    currency = django_filters.ChoiceFilter(label="Currency", empty_label="Any")
    recipient = django_filters.ChoiceFilter(
        label="Received by", choices=Payment.Recipient.choices, empty_label="Anyone"
    )
    commission_status = django_filters.ChoiceFilter(
        label="Commission", choices=Payment.CommissionStatus.choices, empty_label="Any"
    )
    agent = django_filters.ChoiceFilter(
        field_name="case__assigned_to_id", label="Agent (case assignee)", empty_label="Anyone"
    )
    lifecycle = django_filters.ChoiceFilter(
        field_name="case__lifecycle",
        label="Case lifecycle",
        choices=LifecycleChoices.choices,
        empty_label="Any",
    )
    state = django_filters.ChoiceFilter(label="State", choices=Payment.State.choices, empty_label="Any")
    # Payments on Debitura's test cases stay out of the rows and the totals unless asked for, as
    # test cases stay out of the case list.
    test = django_filters.BooleanFilter(
        label="Include test cases", method="_test_cases", widget=forms.CheckboxInput
    )

    class Meta:
        model = Payment
        fields: list[str] = []

    def __init__(self, data: Any = None, *, currencies: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Payment.objects.all())
        super().__init__(data, **kwargs)
        # Offered choices, read once here (the filters are this instance's copies).
        self.filters["currency"].extra["choices"] = [(c, c) for c in currencies]
        self.filters["agent"].extra["choices"] = assignable_users()

    def _test_cases(self, queryset: Any, name: str, value: bool | None) -> Any:
        return queryset if value else queryset.filter(case__is_test_case=False)
