from django.apps import AppConfig


class DebituraConfig(AppConfig):
    name = "debitura"
    verbose_name = "Debitura"
