"""evidence stage handlers."""
