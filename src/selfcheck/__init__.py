"""selfcheck: quarterly customer-service self-inspection reports."""

__version__ = "0.1.0"
