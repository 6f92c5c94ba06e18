"""HMS application server: the single authority for rules, access and audit."""

__version__ = "0.1.0"
