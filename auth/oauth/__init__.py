"""The OAuth 2.0 authorization server: authorization code + PKCE (S256 only), refresh token
rotation with reuse detection, client credentials for provider back offices, revocation
(RFC 7009) and server metadata (RFC 8414), built on Authlib."""
