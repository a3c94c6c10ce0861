"""diff stage handlers."""
