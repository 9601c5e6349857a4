"""Chat of exchange projects: channels, messages in per-channel order, moderation."""
