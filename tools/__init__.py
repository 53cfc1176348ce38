"""Maintenance commands for the book (not part of vaelib)."""
