"""Payment pages: record on the case page (with a live split estimate and guards), correct or
delete a payment, consent to reopening, and the ledger with its streaming CSV export.

Nothing here talks to Debitura except the cached GET /me behind the estimate: recording,
correcting and deleting are outbox rows written by the services in payments/actions.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.actions import ActionInvalid, NeedsConfirmation
from cases.models import Case
from cases.views import KEEP_PANEL, case_page_context, case_regions
from outbox.models import OutboxAction
from partnerportal.http import HtmxHttpRequest
from payments.actions import payment_correct, payment_delete, payment_record
from payments.filters import LedgerFilterSet
from payments.forms import (
    PaymentConsentForm,
    PaymentCorrectForm,
    PaymentDeleteForm,
    PaymentRecordForm,
    payment_consent_pending,
)
from payments.models import Payment
from payments.services import (
    SplitPreview,
    partner_revenue_shares,
    payment_remainder,
    payment_split_preview,
    payments_csv_rows,
    payments_earnings_by_month,
    payments_ledger,
    payments_totals,
)

LEDGER_PAGE_ROWS = 100


# --- Recording on the case page -----------------------------------------------------------------


def _decimal(value: str | None) -> Decimal | None:
    try:
        number = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    # Beyond the 16 whole digits an amount field holds, it is not an amount (and would not round).
    return number if number.is_finite() and 0 <= number < Decimal("1e16") else None


def _preview(case: Case, data: Any, *, remainder: Decimal | None = None) -> SplitPreview | None:
    """The estimate for what the agent typed so far; None until there is an amount."""
    amount = _decimal(data.get("amount"))
    if amount is None or amount <= 0:
        return None
    creditor, partner = _decimal(data.get("payout_creditor")), _decimal(data.get("payout_partner"))
    both = creditor is not None and partner is not None
    return payment_split_preview(
        case=case,
        amount=amount,
        shares=partner_revenue_shares(),
        remainder=payment_remainder(case=case) if remainder is None else remainder,
        payout_creditor=creditor if both else None,
        payout_partner=partner if both else None,
    )


@require_GET
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def payment_preview(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """The live estimate under the record form, as the agent types (htmx)."""
    case = get_object_or_404(Case, id=case_id)
    return render(request, "payments/_preview.html", {"case": case, "preview": _preview(case, request.GET)})


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def payment_record_view(request: HtmxHttpRequest, case_id: str) -> HttpResponse:
    """Record a payment: guards ask once more (above the remainder, a likely duplicate), then queue it."""
    case = get_object_or_404(Case, id=case_id)
    form = PaymentRecordForm(request.POST, case=case)
    remainder = None  # read once for the guards and the estimate shown with them
    if form.is_valid() and "edit" not in request.POST:
        data = form.cleaned_data
        try:
            # The guards run in the service, under the case's lock: a second session recording at
            # the same moment is asked about the first one's payment.
            action = payment_record(
                case=case,
                actor=request.user,
                close_case=data["close_case"],
                confirmed=request.POST.get("confirmed") == "1",
                token=data["token"],
                **form.payment_fields(),
            )
        except NeedsConfirmation as exc:
            form.guard_warnings, form.confirming, remainder = exc.warnings, True, exc.remainder
        except ActionInvalid as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _recorded(request, case, action)
    # The form comes back (guard, edit, errors): with the estimate for what is typed, not 'Enter an amount'.
    preview = _preview(case, request.POST, remainder=remainder)
    if request.htmx:
        return render(request, "payments/_record_form.html", {"case": case, "form": form, "preview": preview})
    context = case_page_context(request, case, bound=form)
    return render(request, "cases/case_detail.html", {**context, "preview": preview})


def _recorded(request: HtmxHttpRequest, case: Case, action: OutboxAction) -> HttpResponse:
    if not request.htmx:
        messages.success(request, "Payment queued: it shows as pending until Debitura has confirmed it.")
        return HttpResponseRedirect(f"{reverse('cases:detail', args=[case.pk])}#case-payments")
    # A fresh form where the agent acted, and the page out of band: the payment pending in the
    # table and in the entry's state, the header's "pending" amount.
    fresh = render_to_string(
        "payments/_record_form.html", {"case": case, "form": PaymentRecordForm(case=case)}, request=request
    )
    return HttpResponse(fresh + case_regions(request, case.pk, panel=KEEP_PANEL, poller_oob=True))


# --- Correcting ----------------------------------------------------------------------------------


def _payment(payment_id: int) -> Payment:
    return get_object_or_404(Payment.objects.select_related("case", "action"), pk=payment_id)


def _payment_page(
    request: HtmxHttpRequest, payment: Payment, *, bound: Any = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "payment": payment,
        "case": payment.case,
        "consent": payment_consent_pending(payment),
        "history": list(
            OutboxAction.objects.filter(case=payment.case, payload__payment_id=payment.pk)
            .select_related("actor")
            .order_by("-created_at")
        ),
    }
    if request.user.has_perm("accounts.work_cases"):
        if payment.can_change:
            context["correct_form"] = (
                bound if isinstance(bound, PaymentCorrectForm) else PaymentCorrectForm(payment=payment)
            )
            context["delete_form"] = (
                bound if isinstance(bound, PaymentDeleteForm) else PaymentDeleteForm(case=payment.case)
            )
        if isinstance(bound, PaymentConsentForm):
            context["consent_form"] = bound
        elif context["consent"] is not None:
            context["consent_form"] = PaymentConsentForm(
                case=payment.case, initial={"action": context["consent"].pk}
            )
    return render(request, "payments/payment_detail.html", context, status=status)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def payment_detail(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    """One payment: its values, Debitura's answers, and (for agents) correct, delete, consent."""
    return _payment_page(request, _payment(payment_id))


def _change(
    request: HtmxHttpRequest,
    payment: Payment,
    form: PaymentCorrectForm | PaymentDeleteForm | PaymentConsentForm,
    send: Callable[[dict[str, Any]], OutboxAction],
) -> HttpResponse:
    """Validate, confirm if the form asks for it, send; otherwise the payment page with the form again."""
    if form.is_valid():
        if form.confirm and request.POST.get("confirmed") != "1":
            form.confirming = True
            return _payment_page(request, payment, bound=form)
        try:
            action = send(form.cleaned_data)
        except ActionInvalid as exc:
            form.add_service_errors(exc.message_dict)
        else:
            messages.success(
                request,
                f"{action.get_kind_display()} queued: it shows as pending until Debitura has answered.",
            )
            return HttpResponseRedirect(f"{reverse('cases:detail', args=[payment.case_id])}#case-payments")
    return _payment_page(request, payment, bound=form, status=400)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def payment_correct_view(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    """Correct a payment's values; relayed as an edit at Debitura."""
    payment = _payment(payment_id)
    form = PaymentCorrectForm(request.POST, payment=payment)

    def send(data: dict[str, Any]) -> OutboxAction:
        return payment_correct(
            payment=payment, actor=request.user, token=data["token"], **form.payment_fields()
        )

    return _change(request, payment, form, send)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def payment_delete_view(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    """Delete a payment, after one confirmation step."""
    payment = _payment(payment_id)
    form = PaymentDeleteForm(request.POST, case=payment.case)

    def send(data: dict[str, Any]) -> OutboxAction:
        return payment_delete(payment=payment, actor=request.user, token=data["token"])

    return _change(request, payment, form, send)


@require_POST
@login_required
@permission_required("accounts.work_cases", raise_exception=True)
def payment_consent_view(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    """Resend an edit or delete Debitura refused (409), now consenting to reopen the case."""
    payment = _payment(payment_id)
    form = PaymentConsentForm(request.POST, case=payment.case)

    def send(data: dict[str, Any]) -> OutboxAction:
        refused = payment_consent_pending(payment)
        if refused is None or refused.pk != uuid.UUID(str(data["action"])):
            raise ActionInvalid({"__all__": "That change is no longer waiting for consent; reload the page."})
        return _resend_with_consent(payment, refused, actor=request.user, token=data["token"])

    return _change(request, payment, form, send)


def _resend_with_consent(payment: Payment, refused: OutboxAction, *, actor: Any, token: str) -> OutboxAction:
    p = refused.payload
    if refused.kind == OutboxAction.Kind.PAYMENT_DELETE:
        return payment_delete(payment=payment, actor=actor, reopen_case_if_needed=True, token=token)
    return payment_correct(
        payment=payment,
        actor=actor,
        reopen_case_if_needed=True,
        token=token,
        date=date.fromisoformat(p["date"]),
        amount=Decimal(p["amount"]),
        recipient=p["recipient"],
        commission_status=p.get("commission_status") or None,
        payout_creditor=Decimal(p["payout_creditor"]) if p.get("payout_creditor") is not None else None,
        payout_partner=Decimal(p["payout_partner"]) if p.get("payout_partner") is not None else None,
    )


# --- The ledger ----------------------------------------------------------------------------------


# Beyond this the ledger has no rows, and a bigger OFFSET is more than a database takes (2**63).
MAX_OFFSET = 10**9
_OFFSET = re.compile(r"[0-9]{1,10}")


def _offset(value: str) -> int:
    """The page's offset; anything but plain digits up to MAX_OFFSET is the first page, as before."""
    value = value.strip()
    return int(value) if _OFFSET.fullmatch(value) and int(value) <= MAX_OFFSET else 0


def _ledger_filters(request: HtmxHttpRequest) -> LedgerFilterSet:
    currencies = list(Payment.objects.order_by("currency").values_list("currency", flat=True).distinct())
    return LedgerFilterSet(request.GET, currencies=currencies)


@require_GET
@login_required
@permission_required("accounts.view_cases", raise_exception=True)
def ledger(request: HtmxHttpRequest) -> HttpResponse:
    """Every payment across cases: filters, totals per currency, the agency's earnings per month."""
    filters = _ledger_filters(request)
    payments = payments_ledger(filters=filters)
    offset = _offset(request.GET.get("offset", ""))
    rows = list(payments.select_related("case", "case__assigned_to")[offset : offset + LEDGER_PAGE_ROWS + 1])
    query = request.GET.copy()
    query.pop("offset", None)
    context = {
        "form": filters.form,
        "payments": rows[:LEDGER_PAGE_ROWS],
        "offset": offset,
        "next_offset": offset + LEDGER_PAGE_ROWS if len(rows) > LEDGER_PAGE_ROWS else None,
        "previous_offset": max(0, offset - LEDGER_PAGE_ROWS) if offset else None,
        "query": query.urlencode(),
        "totals": payments_totals(payments=payments),
        "earnings": payments_earnings_by_month(payments=payments, shares=partner_revenue_shares()),
    }
    # The filters push their URL: a history restore after a cache miss asks for it again with
    # HX-Request set and needs the whole page, not the results.
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "payments/ledger.html#results" if partial else "payments/ledger.html"
    return render(request, template, context)


@require_GET
@login_required
@permission_required("accounts.export_data", raise_exception=True)
def ledger_csv(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """The filtered ledger as CSV, streamed a chunk at a time (no cap on the number of rows)."""
    payments = payments_ledger(filters=_ledger_filters(request))
    response = StreamingHttpResponse(
        payments_csv_rows(payments=payments), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response
