"""policywatch: watch AI platforms' policies and alert people when a change matters."""

__version__ = "0.1.0"
