"""Billing use cases: the price list, charge capture, invoices, discounts and approvals,
credit notes, payments (cash, card through the gateway, bank transfer, insurance
remittances), refunds, the patient account, cash-up, insurance and claims.

Modules along the seams of the work: ``prices``, ``charges`` (capture and the domain-event
handlers), ``invoices``, ``discounts``, ``credit_notes``, ``payments``, ``card_payments``,
``cashup``, ``accounts``, ``approvals``, ``insurance``, ``claims``, ``merge``; ``views``
builds the read shapes, ``common`` the shared helpers. Live events (``uow.publish``)
use the kinds listed for billing in ``domain/event_access.py``.
"""
