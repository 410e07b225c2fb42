# One image for web, worker, beat and the one-shot migrate step (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /app
RUN groupadd --system portal && useradd --system --gid portal --home-dir /app portal

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p partnerportal debitura outbox cases payments documents promises history managed exports worklist golive bulknotes dashboard accounts && pip install . && pip uninstall -y partnerportal

COPY . .
# collectstatic needs settings to load; these values exist only during the build. The files go to
# STATIC_ROOT in the image, not into the var volume, so each new image serves its own.
RUN SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS=build python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown -R portal:portal /app/var

USER portal
EXPOSE 8000
# gunicorn.conf.py: bind, workers (WEB_CONCURRENCY), and no trust in X-Forwarded-* of its own.
CMD ["gunicorn"]
