"""Billing's gateways to the outside world and their local simulators: an insurer speaking
FHIR R4 (``payer_fhir``; simulator ``payer_simulator``) and a card payment gateway with signed
settlement webhooks (``card_gateway``; simulator ``gateway_simulator``). The simulators run as
their own processes (``python -m hms_server.adapters.billing.payer_simulator``) in tests and
in the demo."""
