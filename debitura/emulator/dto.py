"""The spec's response shapes, built from the domain model (exactly the spec's fields, no extras)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .model import (
    CHAT_ROLE_LABELS,
    CLOSE_CODES,
    LIFECYCLES,
    Case,
    CaseFile,
    Chat,
    ExclusivePeriod,
    Partner,
    Payment,
    User,
)

JSON = dict[str, Any]


def stamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds, so DateUpdated orders changes a moment apart."""
    if moment is None:
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def number(amount: Decimal | None) -> float | None:
    """A JSON number; amounts carry at most two decimals, which a float renders exactly."""
    return None if amount is None else float(amount)


def page_data(total: int, page: int, page_size: int, count: int) -> JSON:
    return {
        "totalResults": total,
        "pageSize": page_size,
        "currentPage": page,
        "responseCount": count,
        "totalPages": (total + page_size - 1) // page_size,
    }


def me(partner: Partner) -> JSON:
    return {
        "id": partner.id,
        "companyName": partner.company_name,
        "logoUrl": None,
        "companyRegistrationNumber": partner.registration_number,
        "vatNumber": partner.vat_number,
        "address": partner.address,
        "zipCode": partner.zip_code,
        "city": partner.city,
        "state": None,
        "country": partner.country,
        "officeEmail": partner.office_email,
        "officePhone": partner.office_phone,
        "invoiceEmail": partner.office_email,
        "billingContact": "Accounts",
        "invoiceCurrency": None,
        "commissionType": 0,
        "preLegalRevenueShare": number(partner.pre_legal_revenue_share),
        "legalRevenueShare": number(partner.legal_revenue_share),
        "verifiedProfile": True,
        "fullAddress": f"{partner.address}, {partner.zip_code} {partner.city}, {partner.country}",
        "surveyCadenceMode": 0,
    }


def user(member: User) -> JSON:
    return {"id": member.id, "name": member.name, "email": member.email}


def _allocation(case: Case) -> JSON:
    # Payments settle collection fees first, then reminder fees, interest and finally principal.
    left = case.total_payments
    parts = {}
    for key, owed in (
        ("collectionFees", case.collection_fees),
        ("reminderFees", case.reminder_fees),
        ("interest", case.interest_fees),
        ("principal", case.gross_amount),
    ):
        paid = min(left, owed)
        left -= paid
        parts[key] = owed - paid
    return {key: number(parts[key]) for key in ("principal", "interest", "reminderFees", "collectionFees")}


def case(item: Case, partner: Partner, users: dict[str, User]) -> JSON:
    """InvoiceDto."""
    creditor, debtor, account = item.creditor, item.debtor, item.bank_account
    partner = item.collector or partner
    assignee = users.get(item.assigned_user_id) if item.assigned_user_id else None
    pre_legal = item.engagement_phase in (None, "Pre-legal")
    return {
        "id": item.id,
        "dateCreated": stamp(item.date_created),
        "dateUpdated": stamp(item.date_updated),
        "reference": item.reference,
        "creditorReference": item.creditor_reference,
        "creditorComments": item.creditor_comments,
        "claimDescription": item.claim_description,
        "grossAmount": number(item.gross_amount),
        "remainder": number(item.remainder),
        "interestFees": number(item.interest_fees),
        "reminderFees": number(item.reminder_fees),
        "collectionFees": number(item.collection_fees),
        "totalAddedFees": number(item.total_fees),
        "currency": item.currency,
        "isTestCase": item.is_test,
        "lifecycle": LIFECYCLES[item.lifecycle],
        "dueDate": stamp(item.due_date),
        "date": stamp(item.date),
        "dateFinished": stamp(item.date_finished),
        "dateCollectionStarted": stamp(item.date_collection_started),
        "closeCode": CLOSE_CODES[item.close_code] if item.close_code else None,
        "currentEngagementPhase": item.engagement_phase
        if item.lifecycle in ("Active", "Paused", "NeedsAdditionalDetails")
        else None,
        "claimType": item.claim_type,
        "creditorDivisionId": item.division.id if item.division else None,
        "debtor": {
            "type": debtor.type,
            "name": debtor.name,
            "contactPerson": debtor.contact_person,
            "companyRegistrationNumber": debtor.registration_number,
            "address": debtor.address,
            "zipCode": debtor.zip_code,
            "city": debtor.city,
            "state": debtor.state,
            "stateAlpha2": debtor.state_alpha2,
            "countryAlpha2": debtor.country_alpha2,
            "country": debtor.country,
            "email": debtor.email,
            "phone": debtor.phone,
        },
        "collectionPartner": {
            "name": partner.company_name,
            "officeEmail": partner.office_email,
            "officePhone": partner.office_phone,
            "publicSite": partner.public_site,
            "surveyCadenceMode": 0,
        },
        "creditor": {
            "id": creditor.id,
            "companyName": creditor.company_name,
            "companyRegistrationNumber": creditor.registration_number,
            "officeEmail": creditor.office_email,
            "officePhone": creditor.office_phone,
            "address": creditor.address,
            "city": creditor.city,
            "zipCode": creditor.zip_code,
            "state": creditor.state,
            "country": creditor.country,
            "division": {"id": item.division.id, "name": item.division.name}
            if item.division
            else {"id": "00000000-0000-0000-0000-000000000000", "name": None},
        },
        "bankAccount": {
            "id": account.id,
            "label": account.label,
            "scheme": account.scheme,
            "currencyCode": account.currency,
            "bankCountryCode": account.country_alpha2,
            "accountHolderName": account.holder,
            "iban": account.iban,
            "bic": account.bic,
            "accountNumber": account.account_number,
            "localIdentifier": None,
            "localIdentifierType": None,
            "bankName": account.bank_name,
            "bankAddress": None,
            "bankCity": account.bank_city,
            "bankZipCode": None,
            "bankState": None,
        },
        "blendedAgeUpliftPoints": number(item.age_uplift) if item.multi_invoice else None,
        "preLegalSuccessFee": number(item.success_fee) if pre_legal else None,
        "solutionUrl": None,
        "signingHandoff": {"combinedSigningUrl": None},
        "exclusivePeriodEndDate": stamp(item.exclusive.end) if item.exclusive else None,
        "disputeStatus": item.dispute_status,
        "validation": {"needsInfo": item.needs_info},
        "assignedUser": {"email": assignee.email, "name": assignee.name}
        if assignee
        else {"email": None, "name": None},
        "allocationOutstanding": _allocation(item),
    }


def timeline(item: Case) -> JSON:
    entries = sorted(item.timeline, key=lambda entry: entry.date)
    return {
        "items": [
            {
                "date": stamp(entry.date),
                "type": entry.type,
                "title": entry.title,
                "description": entry.description,
                "actor": {"type": entry.actor_type, "name": entry.actor_name},
            }
            for entry in entries
        ],
        "currentEngagementPhase": item.engagement_phase if item.lifecycle == "Active" else None,
    }


def chat(message: Chat) -> JSON:
    return {
        "id": message.id,
        "dateCreated": stamp(message.date_created),
        "dateUpdated": None,
        "role": message.role,
        "roleLabel": CHAT_ROLE_LABELS[message.role],
        "message": message.message,
        "isSeen": message.is_seen,
        "user": {
            "id": message.user_number,
            "dateCreated": stamp(message.user_date_created),
            "dateUpdated": None,
            "firstName": message.user_first_name,
            "lastName": message.user_last_name,
            "email": message.user_email,
        },
    }


def payment(item: Payment, case_: Case) -> JSON:
    """PaymentDto."""
    return {
        "id": item.id,
        "dateCreated": stamp(item.date_created),
        "dateUpdated": stamp(item.date_updated),
        "date": stamp(item.date),
        "grossAmount": number(item.amount),
        "recipient": item.recipient,
        "method": item.method,
        "currency": case_.currency,
        "invoice": {
            "status": LIFECYCLES[case_.lifecycle],
            "reference": case_.reference,
            "invoiceId": case_.id,
        },
    }


def case_file(item: CaseFile, url: str) -> JSON:
    return {
        "id": item.id,
        "dateCreated": stamp(item.date_created),
        "dateUpdated": stamp(item.date_created),
        "caseId": item.case_id,
        "entityType": "Invoice",
        "entityId": item.case_id,
        "fileName": item.file_name,
        "url": url,
        "description": item.description,
        "documentType": item.document_type,
    }


def exclusive_period(period: ExclusivePeriod, case_: Case, now: datetime) -> JSON:
    if period.terminated:
        status, days = "Terminated", 0
    else:
        days = (period.end - now).days
        resolved = case_.lifecycle == "Closed"
        status = "Expired" if days < 0 or resolved else "Active"
    return {
        "engagementStartDate": stamp(period.start),
        "currentEndDate": stamp(period.end),
        "daysRemaining": days,
        "status": status,
        "extensions": [
            {"type": ext.type, "eventDate": stamp(ext.event_date), "newEndDate": stamp(ext.new_end_date)}
            for ext in period.extensions
        ],
    }


def validation(item: Case) -> JSON:
    return {
        "needsInfo": item.needs_info,
        "creditorRespondedAt": stamp(item.creditor_responded_at),
        "items": [
            {"resolutionArea": v.resolution_area, "description": v.description} for v in item.validation_items
        ],
    }
