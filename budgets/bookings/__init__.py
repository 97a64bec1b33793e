"""Bookings of offers against approved plan lines, and the claims providers make for what
they delivered."""
