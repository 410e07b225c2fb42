"""Manage the portal's webhook subscription at Debitura. The signing secret is never printed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cases.models import WebhookSubscription
from debitura.client import get_client
from debitura.errors import DebituraError

EVENTS = [
    "case.assigned",
    "case.updated",
    "case.closed",
    "payment.created",
    "payment.deleted",
    "chat.created",
]


class Command(BaseCommand):
    help = "Register, list or delete the webhook subscription that points Debitura at this portal."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="Create a subscription and store its secret.")
        register.add_argument("--url", required=True, help="https://<portal host>/webhooks/debitura/")
        register.add_argument("--test-mode", action="store_true")
        sub.add_parser("list", help="List subscriptions at Debitura.")
        delete = sub.add_parser("delete", help="Delete a subscription at Debitura and here.")
        delete.add_argument("id")

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        try:
            getattr(self, f"_{options['action']}")(client, options)
        except DebituraError as exc:
            raise CommandError(str(exc)) from None

    def _register(self, client: Any, options: dict[str, Any]) -> None:
        url = options["url"]
        if not url.startswith("https://"):
            raise CommandError("Debitura only delivers to https:// URLs.")
        hook = client.create_webhook(url=url, events=EVENTS, test_mode=options["test_mode"])
        if not hook.secret:
            raise CommandError("Debitura did not return a signing secret; nothing was stored.")
        with transaction.atomic():
            WebhookSubscription.objects.update_or_create(
                id=hook.id,
                defaults={"url": url, "events": list(hook.events), "secret": hook.secret, "is_active": True},
            )
        self.stdout.write(
            f"Registered {hook.id} for {url} ({', '.join(hook.events)}). The secret is stored, not shown."
        )

    def _list(self, client: Any, options: dict[str, Any]) -> None:
        local = set(map(str, WebhookSubscription.objects.values_list("id", flat=True)))
        hooks = client.list_webhooks()
        if not hooks:
            self.stdout.write("No subscriptions at Debitura.")
        for hook in hooks:
            state = "active" if hook.is_active else f"disabled ({hook.disabled_reason or 'no reason given'})"
            known = "secret stored" if str(hook.id) in local else "NO SECRET HERE: deliveries will be refused"
            self.stdout.write(f"{hook.id}  {hook.url}  {state}  {known}")

    def _delete(self, client: Any, options: dict[str, Any]) -> None:
        client.delete_webhook(options["id"])
        WebhookSubscription.objects.filter(id=options["id"]).delete()
        self.stdout.write(f"Deleted {options['id']}.")
