"""The Telegram adapter: domain events to outbox rows, delivery, rendering, keyboards."""
