"""Manage the portal's webhook subscription at Debitura. The signing secret is never printed."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import WebhookSubscription
from cases.sync.webhooks import WebhookUrlRefused, webhook_subscription_ensure
from debitura.client import get_client
from debitura.errors import DebituraError


class Command(BaseCommand):
    help = (
        "Register (idempotent: registers, re-keys or re-enables as needed), list or delete the webhook "
        "subscription that points Debitura at this portal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="Create a subscription and store its secret.")
        register.add_argument(
            "--url",
            default=settings.DEBITURA_WEBHOOK_URL or None,
            required=not settings.DEBITURA_WEBHOOK_URL,
            help="https://<portal host>/webhooks/debitura/ (default: DEBITURA_WEBHOOK_URL)",
        )
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
        try:
            subscription, done = webhook_subscription_ensure(
                url=url, client=client, test_mode=options["test_mode"]
            )
        except WebhookUrlRefused as exc:
            raise CommandError(str(exc)) from None
        except WebhookSubscription.DoesNotExist:
            raise CommandError("Debitura did not return a signing secret; nothing was stored.") from None
        self.stdout.write(
            f"Subscription {subscription.id} for {url} ({', '.join(subscription.events)}): {done}. "
            "The secret is stored, not shown."
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
