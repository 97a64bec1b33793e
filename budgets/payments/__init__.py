"""Paying providers through Stripe Connect: onboarding, transfers, webhooks, reconciliation."""
