"""residency-guardrail: keep user data where it is allowed to live."""

__version__ = "0.1.0"
