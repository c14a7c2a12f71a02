"""Inventory application package."""
