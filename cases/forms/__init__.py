"""Forms for the agents' actions on the case page, one module per action as in cases/actions/;
the services there decide. `base` holds ActionForm, which every form (payments' too) builds on.

The names are re-exported here so callers import from `cases.forms`.
"""

from cases.forms.accept import (
    REFERENCE_PLACEHOLDER,
    AcceptForm,
    agency_settings_for_accept,
    partner_reference_suggest,
    welcome_message_for,
    welcome_reference,
)
from cases.forms.base import (
    AMOUNT_TEXT,
    EARLIEST_DATE,
    FEE_FIELDS,
    ActionForm,
    AmountField,
    FieldRow,
    amount_field,
    earliest_date_for,
)
from cases.forms.chat import ChatForm
from cases.forms.close import CloseForm
from cases.forms.decline import DeclineForm
from cases.forms.fees import FeesConsentForm, FeesForm
from cases.forms.notes import NoteForm

__all__ = [
    "AMOUNT_TEXT",
    "EARLIEST_DATE",
    "FEE_FIELDS",
    "REFERENCE_PLACEHOLDER",
    "AcceptForm",
    "ActionForm",
    "AmountField",
    "ChatForm",
    "CloseForm",
    "DeclineForm",
    "FeesConsentForm",
    "FeesForm",
    "FieldRow",
    "NoteForm",
    "agency_settings_for_accept",
    "amount_field",
    "earliest_date_for",
    "partner_reference_suggest",
    "welcome_message_for",
    "welcome_reference",
]
