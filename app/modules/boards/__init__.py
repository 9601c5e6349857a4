"""Shared boards of an exchange: boards for the whole exchange or one team, their columns and
cards. Server-rendered for now; live editing comes later (docs/architecture.md)."""
