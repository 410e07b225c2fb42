from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # cases never imports payments: what the case page, its children refresh and its close
        # need from here is registered with it, and the payments' relay handlers with the outbox.
        from payments.case_parts import payments_register
        from payments.handlers import handlers_register

        payments_register()
        handlers_register()
