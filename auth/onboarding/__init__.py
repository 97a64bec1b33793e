"""Onboarding: the first admin, admin invitations and password resets.

Provider organisations sign up through the providers package, which creates the owner's
login with `auth.service.add_user_with_password`.
"""
