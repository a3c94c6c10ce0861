"""fetch stage handlers."""
