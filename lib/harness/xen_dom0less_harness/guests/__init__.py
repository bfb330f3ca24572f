"""Guests made from our own sources, so boot tests depend on nothing we cannot rebuild."""
