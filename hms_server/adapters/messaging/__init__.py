"""Outgoing messaging gateways (SMTP e-mail, HTTP SMS) behind one small interface, plus local
simulators of both that tests and demos run as separate processes."""
