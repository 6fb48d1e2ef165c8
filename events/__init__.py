"""Aggregates, their events, value types and domain errors. Imports nothing else of Anlao."""
