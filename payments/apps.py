from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # cases never imports payments: what it needs from here is registered with it.
        from cases.actions import case_close_check_register
        from payments.actions import case_close_payments_check

        case_close_check_register(case_close_payments_check)
