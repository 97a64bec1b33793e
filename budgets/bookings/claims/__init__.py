"""Claims: a provider's record of a delivery, which the person confirms or disputes; a
confirmed claim is what payments pay."""
