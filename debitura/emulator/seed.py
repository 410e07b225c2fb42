"""Deterministic seed data: the same seed and anchor always give the same partner, team and cases.

Over 400 lines on purpose: the Seeder draws everything from one random generator in a fixed
order, and every seeded world (the tests', the demo's, the benchmarks') depends on that order.
Kept in one class and one module, a change that moves a draw is visible in one diff; split
across modules, the order would be spread over several and easy to disturb unknowingly.
"""

from __future__ import annotations

import math
import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from . import names
from .model import (
    CLOSE_CODES,
    DISPUTE_UNKNOWN,
    DISPUTED,
    NOT_DISPUTED,
    ZERO,
    BankAccount,
    Case,
    CaseFile,
    Chat,
    Creditor,
    Debtor,
    Division,
    ExclusivePeriod,
    Partner,
    Payment,
    TimelineItem,
    User,
    ValidationItem,
    add_months,
    money,
)
from .pricing import USD_RATES, age_uplift, computed_split, standard_success_fee

_LIFECYCLE_WEIGHTS = {
    "PendingVerification": 20,
    "NeedsAdditionalDetails": 6,
    "Leads": 3,
    "LeadsQuoteGiven": 3,
    "Active": 34,
    "Paused": 6,
    "Closed": 24,
    "Merged": 4,
}
_CLOSE_CODE_WEIGHTS = {
    "Paid": 30,
    "PartiallyPaid": 12,
    "DebtorInsolventBankrupt": 8,
    "DebtorUntraceable": 8,
    "WithdrawnByClient": 10,
    "PreLegalExhaustedNoPayment": 10,
    "StatuteOfLimitationsExpired": 3,
    "DisputedLegalActionDeclinedByClient": 4,
    "SettlementRejectedByClient": 3,
    "UnresponsiveClient": 3,
    "UneconomicalToPursue": 4,
    "Other": 5,
}
_CLAIM_TYPE_WEIGHTS = {
    "Unpaid Invoice": 72,
    "Loan Repayment": 12,
    "Breach of Contract": 7,
    "Rent Arrears": 5,
    "Damages": 4,
}
_DISPUTE_WEIGHTS = {NOT_DISPUTED: 78, DISPUTED: 8, DISPUTE_UNKNOWN: 6, "": 8}
_WORKED = ("Active", "Paused", "NeedsAdditionalDetails", "Closed", "Merged")


class IdFactory:
    """Ids and 8-character references from a seeded generator, never repeating a reference."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.references: set[str] = set()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def reference(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = "".join(self.rng.choices(alphabet, k=8))
            if candidate not in self.references and not candidate.isdigit():
                self.references.add(candidate)
                return candidate


@dataclass
class World:
    """Everything the seed produced, ready to load into the emulator state."""

    partner: Partner
    users: list[User]
    creditors: list[Creditor]
    cases: list[Case]
    # Keeps generating (new assignments, ids) from where the seed stopped, so runs replay exactly.
    seeder: Seeder


def anchor_for(today: datetime | None = None) -> datetime:
    """Seed data is dated relative to midnight UTC of `today` so a seed is stable within a day."""
    moment = today or datetime.now(UTC)
    return datetime.combine(moment.date(), time(), tzinfo=UTC)


def build_world(seed: int, cases: int, anchor: datetime) -> World:
    """The seeded partner, team, creditors and `cases` cases, all dated before `anchor`."""
    return Seeder(seed, anchor).build(cases)


def file_content(file_name: str, title: str, body: str) -> bytes:
    """Small but genuine file bytes for a seeded document of the name's type."""
    if file_name.endswith(".pdf"):
        return _minimal_pdf(f"{title}: {body}")
    if file_name.endswith(".csv"):
        return f"date,description,amount\n{body}\n".encode()
    if file_name.endswith(".eml"):
        return f"Subject: {title}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n".encode()
    return f"{title}\n\n{body}\n".encode()


def _minimal_pdf(text: str) -> bytes:
    safe = text.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 11 Tf 50 780 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class Seeder:
    """Invents parties and cases from one seeded generator."""

    def __init__(self, seed: int, anchor: datetime) -> None:
        self.rng = random.Random(seed)
        self.ids = IdFactory(self.rng)
        self.anchor = anchor
        self.numbers = iter(range(1001, 10**9))
        self.partner_refs = iter(range(1, 10**9))
        self.bank_ids = iter(range(1, 10**9))
        self.creditor_refs: dict[str, int] = {}
        self.debtors: list[Debtor] = []

    # -- helpers -----------------------------------------------------------------------------
    def weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def between(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end]; in the hour before `end` when the window is empty.

        Never after `end`, so nothing lands in the future, and never `end` itself: moments
        clamped to one instant would give many cases the same dateUpdated, and a newest-first
        walk could not tell where a page of changes ends.
        """
        span = (end - start).total_seconds()
        if span <= 0:
            return end - timedelta(seconds=self.rng.uniform(1, 3600))
        return start + timedelta(seconds=self.rng.uniform(0, span))

    def phone(self, country: names.Country) -> str:
        return f"{country.phone_prefix} {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"

    def person(self, country: names.Country) -> tuple[str, str]:
        return self.rng.choice(country.first_names), self.rng.choice(country.last_names)

    def company_name(self, country: names.Country) -> str:
        word, trade = self.rng.choice(names.COMPANY_WORDS), self.rng.choice(names.COMPANY_TRADES)
        return f"{word} {trade} {self.rng.choice(country.company_suffixes)}"

    def street(self, country: names.Country) -> str:
        number = self.rng.randint(1, 220)
        street = self.rng.choice(country.streets)
        return (
            f"{number} {street}" if country.alpha2 in ("US", "GB", "IE", "CA", "AU") else f"{street} {number}"
        )

    # -- the world ---------------------------------------------------------------------------
    def build(self, case_count: int) -> World:
        partner = self.partner()
        users = self.users(partner)
        creditors = [self.creditor() for _ in range(max(6, case_count // 8))]
        cases = [self.case(index, partner, users, creditors) for index in range(case_count)]
        self.merge_some(cases)
        return World(partner, users, creditors, cases, self)

    def partner(self) -> Partner:
        country = names.COUNTRIES[0]
        word = self.rng.choice(names.COMPANY_WORDS)
        return Partner(
            id=self.ids.uuid(),
            company_name=f"{word} Inkasso ApS",
            registration_number=str(self.rng.randint(10_000_000, 99_999_999)),
            vat_number=f"DK{self.rng.randint(10_000_000, 99_999_999)}",
            address=self.street(country),
            zip_code="1620",
            city="København V",
            country=country.name,
            office_email="office@inkasso.example",
            office_phone=self.phone(country),
            public_site="https://inkasso.example",
            pre_legal_revenue_share=Decimal("0.40"),
            legal_revenue_share=Decimal("0.20"),
            reference_prefix=word[:3].upper(),
        )

    def users(self, partner: Partner) -> list[User]:
        team = []
        for index, (first, last) in enumerate(
            (
                ("Mette", "Holm"),
                ("Jonas", "Krogh"),
                ("Sara", "Lind"),
                ("Peter", "Dahl"),
                ("Amira", "Nasser"),
                ("Ole", "Brandt"),
            )
        ):
            team.append(
                User(
                    id=self.ids.uuid(),
                    number=next(self.numbers),
                    first_name=first,
                    last_name=last,
                    email=f"{first.lower()}.{last.lower()}@inkasso.example",
                    date_created=self.anchor - timedelta(days=900 - index * 60),
                    # The last one left the team: lookups by email must refuse them.
                    active=index < 5,
                )
            )
        return team

    def creditor(self) -> Creditor:
        country = self.rng.choice(names.COUNTRIES)
        city, zip_code, state, _ = self.rng.choice(country.cities)
        first, last = self.person(country)
        name = self.company_name(country)
        divisions = [
            Division(self.ids.uuid(), f"{name.split()[0]} {region}")
            for region in self.rng.sample(
                ("North", "South", "Retail", "Wholesale", "Online"), self.rng.choice((0, 0, 1, 2))
            )
        ]
        return Creditor(
            id=self.ids.uuid(),
            company_name=name,
            registration_number=str(self.rng.randint(10_000_000, 99_999_999)),
            office_email=f"accounts@{name.split()[0].lower()}-{self.rng.randint(1, 99)}.example",
            office_phone=self.phone(country),
            address=self.street(country),
            city=city,
            zip_code=zip_code,
            state=state,
            country=country.name,
            contact_first_name=first,
            contact_last_name=last,
            contact_number=next(self.numbers),
            divisions=divisions,
        )

    def debtor(self) -> Debtor:
        if self.debtors and self.rng.random() < 0.12:
            # Some debtors owe several creditors: the DebtorIds filter then returns more than one case.
            return self.rng.choice(self.debtors)
        country = self.rng.choice(names.COUNTRIES)
        city, zip_code, state, state_code = self.rng.choice(country.cities)
        first, last = self.person(country)
        company = self.rng.random() < 0.65
        name = self.company_name(country) if company else f"{first} {last}"
        debtor = Debtor(
            id=self.ids.uuid(),
            type="Company" if company else "Person",
            name=name,
            contact_person=f"{first} {last}" if company else None,
            registration_number=str(self.rng.randint(10_000_000, 99_999_999)) if company else None,
            address=self.street(country),
            zip_code=zip_code,
            city=city,
            state=state,
            state_alpha2=state_code,
            country_alpha2=country.alpha2,
            country=country.name,
            email=f"{first.lower()}.{last.lower().replace(' ', '')}@mail.example"
            if self.rng.random() < 0.85
            else None,
            phone=self.phone(country) if self.rng.random() < 0.8 else None,
        )
        self.debtors.append(debtor)
        return debtor

    def bank_account(self, creditor: Creditor, currency: str, country_alpha2: str) -> BankAccount:
        iban_country = (
            country_alpha2 if currency in ("EUR", "DKK", "SEK", "NOK", "PLN", "CHF", "GBP") else None
        )
        digits = "".join(self.rng.choices(string.digits, k=18))
        return BankAccount(
            id=next(self.bank_ids),
            label=f"{currency} collection account",
            scheme="IBAN" if iban_country else "Local",
            currency=currency,
            country_alpha2=country_alpha2,
            holder=creditor.company_name,
            iban=f"{iban_country}{digits[:2]}{digits[2:]}" if iban_country else None,
            bic=f"{creditor.company_name[:4].upper().replace(' ', 'X')}{country_alpha2}22"
            if iban_country
            else None,
            account_number=None if iban_country else digits[:10],
            bank_name=f"{self.rng.choice(names.COMPANY_WORDS)} Bank",
            bank_city=creditor.city,
        )

    def case(self, index: int, partner: Partner, users: list[User], creditors: list[Creditor]) -> Case:
        lifecycle = self.weighted(_LIFECYCLE_WEIGHTS)
        recent = lifecycle in ("PendingVerification", "Leads", "LeadsQuoteGiven")
        created = self.anchor - timedelta(seconds=self.rng.uniform(3600, 86400 * (20 if recent else 540)))
        case = self.assignment(
            partner, creditors, created, is_test=self.rng.random() < 0.03 or index in (3, 17)
        )
        if lifecycle in _WORKED:
            self.work(case, partner, users, lifecycle)
        else:
            case.lifecycle = lifecycle
        self.documents(case)
        case.date_updated = max(item.date for item in case.timeline)
        return case

    def assignment(
        self,
        partner: Partner,
        creditors: list[Creditor],
        created: datetime,
        *,
        claim_type: str | None = None,
        dispute: str | None = None,
        is_test: bool = False,
    ) -> Case:
        """A case just assigned to the partner: Pending Verification, priced, nothing done yet."""
        rng = self.rng
        creditor = rng.choice(creditors)
        debtor = self.debtor()
        country = next(c for c in names.COUNTRIES if c.alpha2 == debtor.country_alpha2)
        currency = country.currency
        invoice_date = created - timedelta(days=rng.randint(20, 900))
        due_date = invoice_date + timedelta(days=rng.choice((8, 14, 30)))
        amount_usd = math.exp(rng.uniform(math.log(150), math.log(200_000)))
        gross = money(Decimal(str(amount_usd)) / USD_RATES[currency], currency)
        uplift = age_uplift(due_date, created)
        fee = standard_success_fee(gross, currency, country.alpha2, uplift)
        intentional = rng.random() < 0.1
        ref_number = self.creditor_refs[creditor.id] = (
            self.creditor_refs.get(creditor.id, rng.randint(1000, 8000)) + 1
        )
        case = Case(
            id=self.ids.uuid(),
            reference=self.ids.reference(),
            creditor=creditor,
            division=rng.choice(creditor.divisions) if creditor.divisions else None,
            debtor=debtor,
            bank_account=self.bank_account(creditor, currency, country.alpha2),
            creditor_reference=f"INV-{invoice_date.year}-{ref_number}",
            creditor_comments=rng.choice(names.CREDITOR_COMMENTS),
            claim_description=rng.choice(names.CLAIM_DESCRIPTIONS).format(
                n=rng.randint(100, 9999), month=invoice_date.strftime("%B %Y")
            ),
            claim_type=claim_type or self.weighted(_CLAIM_TYPE_WEIGHTS),
            dispute_status=dispute or self.weighted(_DISPUTE_WEIGHTS) or None,
            currency=currency,
            gross_amount=gross,
            interest_fees=ZERO,
            reminder_fees=money(rng.choice((0, 0, 10, 25)), currency) if currency != "JPY" else ZERO,
            collection_fees=ZERO,
            date=invoice_date,
            due_date=due_date,
            date_created=created,
            date_updated=created,
            lifecycle="PendingVerification",
            # A negotiated (intentional) rate sits below the standard one.
            success_fee=fee - 2 if intentional else fee,
            age_uplift=uplift,
            multi_invoice=bool(uplift) and rng.random() < 0.7,
            intentional_rate=intentional,
            is_test=is_test,
        )
        if rng.random() < 0.15:
            case.validation_items = [ValidationItem(*rng.choice(names.VALIDATION_ITEMS))]
        text = f"Assigned to {partner.company_name}."
        self.timeline(case, created, "Assigned", "Case assigned", text, "System", None)
        return case

    def timeline(
        self, case: Case, when: datetime, kind: str, title: str, text: str, actor: str, who: str | None
    ) -> None:
        case.timeline.append(TimelineItem(when, kind, title, text, actor, who))

    def work(self, case: Case, partner: Partner, users: list[User], lifecycle: str) -> None:
        """A case the partner accepted: started, chatted about, paid into, maybe closed."""
        rng = self.rng
        active_users = [u for u in users if u.active]
        actor = rng.choice(active_users)
        # Accepted within 2-60 hours, but before the seed's horizon (nothing in the future): a
        # case created too late for that is accepted at some moment between creation and then.
        started = case.date_created + timedelta(hours=rng.uniform(2, 60))
        if started > self.anchor - timedelta(minutes=30):
            started = self.between(case.date_created, self.anchor - timedelta(minutes=30))
        case.lifecycle = "Active"
        case.validation_items = []
        case.date_collection_started = started
        case.engagement_phase = rng.choices(("Pre-legal", "Legal", "Enforcement"), weights=(80, 15, 5))[0]
        case.assigned_user_id = rng.choice(active_users).id if rng.random() < 0.85 else None
        case.partner_reference = f"{partner.reference_prefix}-{started.year}-{next(self.partner_refs):05d}"
        if case.currency != "JPY":
            case.interest_fees = money(
                case.gross_amount * Decimal(rng.choice((0, 0, 2, 5))) / 100, case.currency
            )
            case.collection_fees = money(rng.choice((0, 40, 70, 100)), case.currency)
        if not case.needs_custom_terms:
            case.exclusive = ExclusivePeriod(started, add_months(started, 6))
        self.timeline(
            case,
            started,
            "StatusChange",
            "Case accepted",
            "Lifecycle changed to Active.",
            "CollectionPartner",
            actor.name,
        )
        welcome = "We have received your case and will begin collection proceedings."
        self.chat(case, started, 0, welcome, actor, seen=True)
        horizon = self.anchor - timedelta(minutes=5)
        finished = (
            self.between(started + timedelta(days=5), horizon)
            if lifecycle in ("Closed", "Merged")
            else horizon
        )
        moment = started
        for _ in range(rng.randint(0, 4)):
            moment = self.between(moment, min(finished, moment + timedelta(days=40)))
            if rng.random() < 0.5:
                self.chat(case, moment, 1, rng.choice(names.CREDITOR_MESSAGES), None, seen=rng.random() < 0.6)
            else:
                self.chat(
                    case, moment, 0, rng.choice(names.PARTNER_MESSAGES), rng.choice(active_users), seen=True
                )
        close_code = self.weighted(_CLOSE_CODE_WEIGHTS) if lifecycle == "Closed" else None
        self.payments(case, partner, started, finished, close_code)
        if rng.random() < 0.2 and case.exclusive:
            promise = self.between(started, finished)
            case.exclusive.extend("PromiseToPay", promise)
        if lifecycle in ("Paused", "NeedsAdditionalDetails"):
            case.lifecycle = lifecycle
            self.timeline(
                case,
                self.between(moment, finished - timedelta(hours=1)),
                "StatusChange",
                lifecycle,
                f"Lifecycle changed to {lifecycle}.",
                "System",
                None,
            )
            if lifecycle == "NeedsAdditionalDetails":
                case.validation_items = [
                    ValidationItem(*item) for item in rng.sample(names.VALIDATION_ITEMS, rng.randint(1, 2))
                ]
        if close_code:
            self.close(case, close_code, finished, actor)
        if lifecycle == "Merged":
            case.lifecycle = "Merged"
            case.date_finished = finished
            if case.exclusive:
                case.exclusive.terminated = True
            self.timeline(
                case, finished, "StatusChange", "Case merged", "Merged into another case.", "System", None
            )

    def payments(
        self, case: Case, partner: Partner, start: datetime, end: datetime, close_code: str | None
    ) -> None:
        rng = self.rng
        if close_code == "Paid":
            shares = [Decimal(1)] if rng.random() < 0.6 else [Decimal("0.4"), Decimal("0.6")]
        elif close_code == "PartiallyPaid" or (close_code is None and rng.random() < 0.45):
            shares = [Decimal(str(rng.uniform(0.05, 0.3))) for _ in range(rng.randint(1, 3))]
        else:
            return
        total = case.outstanding
        moment = start
        paid = ZERO
        for index, share in enumerate(shares):
            last = close_code == "Paid" and index == len(shares) - 1
            amount = total - paid if last else money(total * share, case.currency)
            if amount <= 0:
                continue
            moment = self.between(moment + timedelta(days=1), end)
            day = datetime.combine(moment.date(), time(), tzinfo=UTC)
            creditor_part, partner_part, platform = computed_split(case, partner, amount)
            recipient = rng.choice(("CollectionPartner", "CollectionPartner", "Creditor", "Platform"))
            payment = Payment(
                id=self.ids.uuid(),
                case_id=case.id,
                date=day,
                amount=amount,
                payout_creditor=creditor_part,
                payout_partner=partner_part,
                platform_share=platform,
                recipient=recipient,
                commission_status=rng.choice(("Paid", "Unpaid")) if recipient == "Creditor" else "Paid",
                date_created=moment,
                invoiced=(self.anchor - moment).days > 60 and rng.random() < 0.6,
            )
            case.payments.append(payment)
            paid += amount
            self.timeline(
                case,
                moment,
                "Payment",
                "Payment registered",
                f"{amount} {case.currency} received.",
                "CollectionPartner",
                None,
            )
            if case.exclusive:
                case.exclusive.extend("Payment", day)

    def close(self, case: Case, code: str, when: datetime, actor: User) -> None:
        case.lifecycle = "Closed"
        case.close_code = code
        case.date_finished = when
        if code == "Other":
            case.close_comment = "Creditor settled directly with the debtor."
        if code == "WithdrawnByClient" and case.exclusive:
            case.exclusive.terminated = True
        self.timeline(
            case,
            when,
            "StatusChange",
            "Case closed",
            f"Closed: {CLOSE_CODES[code]}.",
            "CollectionPartner",
            actor.name,
        )

    def chat(
        self, case: Case, when: datetime, role: int, message: str, user: User | None, *, seen: bool
    ) -> None:
        case.chats.append(Chat.written(self.ids.uuid(), case, when, role, message, user, seen=seen))

    def documents(self, case: Case) -> None:
        rng = self.rng
        candidates = [
            (f"invoice-{case.creditor_reference}.pdf", "OriginalInvoice", "Original invoice"),
            ("delivery-note.pdf", "CreditorDocuments", "Signed delivery note"),
            ("account-statement.csv", "CreditorDocuments", "Account statement"),
            ("reminder.eml", "CreditorDocuments", "Last reminder sent by the creditor"),
            ("demand-letter.pdf", "DemandLetter", "First demand letter"),
        ]
        chosen = candidates[:1] if rng.random() < 0.8 else []
        chosen += rng.sample(candidates[1:4], rng.randint(0, 2))
        if case.date_collection_started and rng.random() < 0.5:
            chosen.append(candidates[4])
        for file_name, kind, title in chosen:
            body = f"{case.claim_description}, {case.gross_amount} {case.currency}, debtor {case.debtor.name}"
            uploaded = (
                case.date_created
                if kind != "DemandLetter"
                else (case.date_collection_started or case.date_created)
            )
            case.files.append(
                CaseFile(
                    id=self.ids.uuid(),
                    case_id=case.id,
                    file_name=file_name,
                    document_type=kind,
                    description=title,
                    content=file_content(file_name, title, body),
                    date_created=min(uploaded + timedelta(minutes=rng.randint(1, 600)), self.anchor),
                )
            )

    def merge_some(self, cases: list[Case]) -> None:
        """Merged cases point at a surviving case of the same creditor where there is one."""
        survivors = [c for c in cases if c.lifecycle != "Merged"]
        by_creditor: dict[str, list[Case]] = {}
        for case in survivors:
            by_creditor.setdefault(case.creditor.id, []).append(case)
        for case in cases:
            if case.lifecycle == "Merged" and survivors:
                case.merged_into = self.rng.choice(by_creditor.get(case.creditor.id) or survivors).id
