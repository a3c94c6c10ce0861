"""The bottom of the package: what every stage may use (clock, errors, settings, backoff, links, outbound address rules, the change-event contract)."""
