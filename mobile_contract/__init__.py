"""The OpenAPI contract the companion app is built against, its releases and change checks."""
