"""web stage handlers."""
