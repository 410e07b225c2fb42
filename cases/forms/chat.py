"""The chat form: a message to the creditor."""

from __future__ import annotations

from django import forms

from cases.forms.base import ActionForm


class ChatForm(ActionForm):
    name = "chat"
    title = "Message the creditor"
    submit_label = "Send…"
    confirm_question = "Send this message? Debitura e-mails it to the creditor."

    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
