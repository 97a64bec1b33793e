"""Provider back-office clients: confidential OAuth clients a provider's owners create for
their own systems (rota, finance), using the client credentials grant for one organisation."""
