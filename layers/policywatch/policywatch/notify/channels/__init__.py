"""Delivery channels: each renders a change for its medium and sends it."""
