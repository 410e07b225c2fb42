"""Gunicorn's settings for the portal, from the environment.

Gunicorn reads this file from its working directory (the project folder; /app in the image), so
`gunicorn` alone starts the portal. Other options: GUNICORN_CMD_ARGS, as gunicorn documents.
"""

import os

wsgi_app = "partnerportal.wsgi:application"
# Behind a proxy on the same machine keep 127.0.0.1; the container image sets 0.0.0.0:8000.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Threads, not sync workers: a sync worker tells the arbiter it is alive only between requests, so
# a streamed export of 100,000 cases (tens of seconds) was killed at `timeout`. A gthread worker's
# main thread keeps reporting while its threads stream; `timeout` then catches only a hung worker.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Load the portal once before forking: a configuration error (no SECRET_KEY, static files not
# collected) stops the start with its message instead of workers failing one after another.
preload_app = True
accesslog = "-"

# Whether a request came over HTTPS is Django's decision alone (TRUST_X_FORWARDED_PROTO ->
# SECURE_PROXY_SSL_HEADER). Gunicorn would otherwise believe X-Forwarded-Proto from its allowed
# addresses (127.0.0.1 by default, anyone with "*") and from any Unix-socket peer.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
