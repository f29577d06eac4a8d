"""Messaging building blocks: outbox table and relay, idempotent consumer, broker admin."""
