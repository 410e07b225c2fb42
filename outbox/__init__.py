"""The outbox: agents' actions written as rows and relayed to Debitura, once each, in order.

It knows no entity beyond "an action belongs to a case, in order": each app registers how its
kinds of action are sent, checked, confirmed and undone (outbox.registry).
"""
