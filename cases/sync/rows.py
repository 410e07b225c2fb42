"""Case rows: where each value the local copy keeps is found on a case Debitura sent, and the
search haystack. Pure mapping, no database."""

from __future__ import annotations

import hashlib
from typing import Any

from cases.models import LifecycleChoices
from debitura import types
from debitura.enums import Lifecycle
from debitura.types import attribute

OPEN_LIFECYCLES = (
    LifecycleChoices.PENDING_VERIFICATION,
    LifecycleChoices.ACTIVE,
    LifecycleChoices.PAUSED,
    LifecycleChoices.NEEDS_ADDITIONAL_DETAILS,
)


class ChildPriority:
    """Order of the child-refresh queue: what an agent opened, then open cases, then the rest."""

    CLOSED = 0
    OPEN = 1
    OPENED_BY_AGENT = 2


def _s(value: str | None) -> str:
    return value or ""


# Where each value the local copy keeps is found on debitura.types.Case, in the order
# _case_row_from_values unpacks them. The sync reads these straight from each page's JSON
# (DebituraClient.list_case_values, no Case objects); single cases come as Case objects and are
# read through the same paths, so both go through one mapping.
CASE_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("reference",),
    ("creditor_reference",),
    ("is_test_case",),
    ("lifecycle",),
    ("close_code",),
    ("current_engagement_phase",),
    ("claim_type",),
    ("claim_description",),
    ("creditor_comments",),
    ("dispute_status",),
    ("needs_info",),
    ("solution_url",),
    ("currency",),
    ("gross_amount",),
    ("interest_fees",),
    ("reminder_fees",),
    ("collection_fees",),
    ("total_added_fees",),
    ("remainder",),
    ("allocation_outstanding", "principal"),
    ("allocation_outstanding", "interest"),
    ("allocation_outstanding", "reminder_fees"),
    ("allocation_outstanding", "collection_fees"),
    ("pre_legal_success_fee",),
    ("blended_age_uplift_points",),
    ("date_created",),
    ("date",),
    ("due_date",),
    ("date_finished",),
    ("date_collection_started",),
    ("exclusive_period_end_date",),
    ("debtor", "type"),
    ("debtor", "name"),
    ("debtor", "contact_person"),
    ("debtor", "company_registration_number"),
    ("debtor", "address"),
    ("debtor", "zip_code"),
    ("debtor", "city"),
    ("debtor", "state"),
    ("debtor", "country_alpha2"),
    ("debtor", "country"),
    ("debtor", "email"),
    ("debtor", "phone"),
    ("creditor", "id"),
    ("creditor", "company_name"),
    ("creditor", "company_registration_number"),
    ("creditor", "office_email"),
    ("creditor", "office_phone"),
    ("creditor", "address"),
    ("creditor", "zip_code"),
    ("creditor", "city"),
    ("creditor", "state"),
    ("creditor", "country"),
    ("creditor_division_id",),
    ("creditor", "division", "id"),
    ("creditor", "division", "name"),
    ("assigned_user", "email"),
    ("assigned_user", "name"),
    ("raw_json",),
    ("date_updated",),
)

# The columns of a case row (case_row), in order: Debitura's values and what follows from them.
CASE_COLUMNS: tuple[str, ...] = (
    "id",
    "reference",
    "creditor_reference",
    "is_test_case",
    "lifecycle",
    "close_code",
    "engagement_phase",
    "claim_type",
    "claim_description",
    "creditor_comments",
    "dispute_status",
    "needs_info",
    "solution_url",
    "currency",
    "gross_amount",
    "interest_fees",
    "reminder_fees",
    "collection_fees",
    "total_added_fees",
    "remainder",
    "outstanding_principal",
    "outstanding_interest",
    "outstanding_reminder_fees",
    "outstanding_collection_fees",
    "success_fee",
    "age_uplift_points",
    "date_created",
    "claim_date",
    "due_date",
    "date_finished",
    "date_collection_started",
    "exclusive_period_end",
    "debtor_type",
    "debtor_name",
    "debtor_contact_person",
    "debtor_registration_number",
    "debtor_address",
    "debtor_zip_code",
    "debtor_city",
    "debtor_state",
    "debtor_country_code",
    "debtor_country",
    "debtor_email",
    "debtor_phone",
    "creditor_id",
    "creditor_name",
    "creditor_registration_number",
    "creditor_email",
    "creditor_phone",
    "creditor_address",
    "creditor_zip_code",
    "creditor_city",
    "creditor_state",
    "creditor_country",
    "creditor_division_id",
    "creditor_division_name",
    "debitura_assignee_email",
    "debitura_assignee_name",
    "raw",
    "raw_hash",
    "remote_updated_at",
    "gone_at",
    "search_text",
)
_ID, _LIFECYCLE, _RAW_HASH, _SEARCH_TEXT = (
    CASE_COLUMNS.index(c) for c in ("id", "lifecycle", "raw_hash", "search_text")
)
_ASSIGNEE_EMAIL = CASE_COLUMNS.index("debitura_assignee_email")
# What a page write adds to each row it writes.
WRITTEN_COLUMNS = (*CASE_COLUMNS, "assigned_to_id", "synced_at", "children_stale", "children_priority")


def _case_row_from_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A case row (CASE_COLUMNS) from a case's values at CASE_PATHS."""
    (
        case_id, reference, creditor_reference, is_test_case, lifecycle, close_code, phase, claim_type,
        claim_description, creditor_comments, dispute_status, needs_info, solution_url, currency,
        gross_amount, interest_fees, reminder_fees, collection_fees, total_added_fees, remainder,
        outstanding_principal, outstanding_interest, outstanding_reminder_fees, outstanding_collection_fees,
        success_fee, age_uplift_points,
        date_created, claim_date, due_date, date_finished, date_collection_started, exclusive_period_end,
        debtor_type, debtor_name, debtor_contact, debtor_registration, debtor_address, debtor_zip,
        debtor_city, debtor_state, debtor_country_code, debtor_country, debtor_email, debtor_phone,
        creditor_id, creditor_name, creditor_registration, creditor_email, creditor_phone, creditor_address,
        creditor_zip, creditor_city, creditor_state, creditor_country,
        top_division_id, division_id, division_name, assignee_email, assignee_name,
        raw, date_updated,
    ) = values  # fmt: skip
    reference, creditor_reference = reference or "", creditor_reference or ""
    debtor_name, debtor_contact = debtor_name or "", debtor_contact or ""
    debtor_email, debtor_phone = debtor_email or "", debtor_phone or ""
    creditor_name, creditor_email = creditor_name or "", creditor_email or ""
    return (
        str(case_id), reference, creditor_reference, is_test_case,
        (lifecycle or Lifecycle.UNKNOWN).value, close_code.value if close_code else "",
        _s(phase), _s(claim_type), _s(claim_description), _s(creditor_comments), _s(dispute_status),
        needs_info, _s(solution_url)[:500], _s(currency).upper()[:3],
        gross_amount, interest_fees, reminder_fees, collection_fees, total_added_fees, remainder,
        outstanding_principal, outstanding_interest, outstanding_reminder_fees, outstanding_collection_fees,
        success_fee, age_uplift_points,
        date_created, claim_date, due_date, date_finished, date_collection_started, exclusive_period_end,
        _s(debtor_type), debtor_name, debtor_contact, _s(debtor_registration), _s(debtor_address),
        _s(debtor_zip), _s(debtor_city), _s(debtor_state), _s(debtor_country_code).upper()[:2],
        _s(debtor_country), debtor_email, debtor_phone,
        creditor_id, creditor_name, _s(creditor_registration), creditor_email, _s(creditor_phone),
        _s(creditor_address), _s(creditor_zip), _s(creditor_city), _s(creditor_state), _s(creditor_country),
        top_division_id or division_id, _s(division_name), _s(assignee_email), _s(assignee_name),
        raw, hashlib.blake2b(raw.encode(), digest_size=16).hexdigest(),
        date_updated or date_created, None,
        _haystack(reference, "", creditor_reference, debtor_name, debtor_contact, debtor_email,
                  debtor_phone, creditor_name, creditor_email),
    )  # fmt: skip


def case_row(remote: types.Case) -> tuple[Any, ...]:
    """The local column values (CASE_COLUMNS) for a case as Debitura sent it (`raw` as JSON text)."""
    return _case_row_from_values(tuple(attribute(remote, path) for path in CASE_PATHS))


def search_text(fields: dict[str, Any]) -> str:
    """The lower-cased haystack the case search box looks in."""
    return _haystack(
        *(
            fields.get(name) or ""
            for name in (
                "reference",
                "partner_reference",
                "creditor_reference",
                "debtor_name",
                "debtor_contact_person",
                "debtor_email",
                "debtor_phone",
                "creditor_name",
                "creditor_email",
            )
        )
    )


def _haystack(
    reference: str,
    partner_reference: str,
    creditor_reference: str,
    debtor_name: str,
    debtor_contact: str,
    debtor_email: str,
    debtor_phone: str,
    creditor_name: str,
    creditor_email: str,
) -> str:
    parts = (
        reference,
        partner_reference,
        creditor_reference,
        debtor_name,
        debtor_contact,
        debtor_email,
        debtor_phone,
        # Phone numbers are typed with and without spaces and dashes; keep both forms.
        "".join(ch for ch in debtor_phone if ch.isdigit() or ch == "+"),
        creditor_name,
        creditor_email,
    )
    return " | ".join(p for p in parts if p).lower()
