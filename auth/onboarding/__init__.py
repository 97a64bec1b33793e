"""Onboarding: the first admin, admin invitations, provider self-signup, password resets."""
