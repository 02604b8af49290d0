"""The case domain: what does not care about Telegram (no aiogram imports here)."""
