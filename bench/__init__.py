"""The benchmark: a large generated dataset, the API under gunicorn, wrk driving it."""
