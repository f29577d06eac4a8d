"""Outbound webhooks: subscriptions, signed deliveries in case order, retries, the delivery log (decision 0083)."""
