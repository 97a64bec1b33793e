"""Accounts, roles, the OAuth 2.0 authorization server, and the access checks endpoints use."""
