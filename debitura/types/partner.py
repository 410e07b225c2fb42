"""Results about the partner itself: profile, team, paging, error details and webhooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from debitura.types.base import ApiStruct, AwareStruct


class BusinessError(ApiStruct):
    """One entry of an error body's businessErrors."""

    type: str | None = None
    message: str | None = None
    solution_url: str | None = None


class Me(ApiStruct):
    """The partner profile behind the API key (GET /me)."""

    id: str
    company_name: str | None = None
    logo_url: str | None = None
    company_registration_number: str | None = None
    vat_number: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    full_address: str | None = None
    office_email: str | None = None
    office_phone: str | None = None
    invoice_email: str | None = None
    billing_contact: str | None = None
    invoice_currency: int | None = None
    commission_type: int | None = None
    pre_legal_revenue_share: Decimal | None = None
    legal_revenue_share: Decimal | None = None
    verified_profile: bool = False
    survey_cadence_mode: int | None = None


class User(ApiStruct):
    """A member of the partner's team (GET /users)."""

    id: str
    name: str | None = None
    email: str | None = None


class PageInfo(ApiStruct):
    """Offset paging data of a list response."""

    total_results: int = 0
    page_size: int = 0
    current_page: int = 0
    response_count: int = 0
    total_pages: int = 0

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.current_page < self.total_pages


class UserPage(ApiStruct):
    """One page of GET /users (its list may come as null)."""

    page: PageInfo | None = None
    users_or_none: tuple[User, ...] | None = msgspec.field(default=(), name="users")

    @property
    def users(self) -> tuple[User, ...]:
        """The page's team members."""
        return self.users_or_none or ()


class Webhook(AwareStruct):
    """A webhook subscription; `secret` is only present in the answer that created it."""

    id: str
    url: str | None = None
    events_or_none: tuple[str, ...] | None = msgspec.field(default=(), name="events")
    is_active: bool = False
    is_test_mode: bool = False
    disabled_reason: str | None = None
    secret: str | None = None
    created_utc: datetime | None = None
    updated_utc: datetime | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The events the subscription asks for."""
        return self.events_or_none or ()


class WebhookEvent(AwareStruct):
    """A recorded webhook delivery with its payload."""

    id: str
    subscription_id: str | None = None
    case_id: str | None = None
    event_type: str | None = None
    payload: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None
    attempt_count: int = 0
    last_response_code: int | None = None
    last_error: str | None = None


class ReplayResult(ApiStruct):
    """Which event was re-sent to which subscription."""

    event_id: str | None = None
    subscription_id: str | None = None
    event_type: str | None = None
