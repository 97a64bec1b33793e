"""A stateful fake of the parts of Stripe we use, served over real HTTP on loopback.

The real `stripe` SDK talks to it through its API base setting, so the code under test is
exactly the code that talks to Stripe. See `server.py` for what it models.
"""

from tests.fake_stripe.server import FakeStripe, FakeStripeServer, Fault

__all__ = ["FakeStripe", "FakeStripeServer", "Fault"]
