"""Notifications: events fan out to per-recipient deliveries (outbox), workers send them."""
