"""Provider organisations (companies, charities, NHS trusts, personal assistants), offers."""
