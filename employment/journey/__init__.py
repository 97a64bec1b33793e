"""The person's own view of their IPS journey, for the app."""
