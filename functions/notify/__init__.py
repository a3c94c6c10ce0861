"""notify stage handlers."""
