# syntax=docker/dockerfile:1
# KoopBoard image: web (gunicorn, default command), Celery worker and beat (see docker-compose.yml).

# --- front-end files: pinned by package-lock.json, copied into koopboard/static/vendor -----------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && mkdir vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js node_modules/axe-core/axe.min.js vendor/ \
    && mkdir -p vendor/kern/fonts \
    && cp node_modules/@kern-ux/native/dist/kern.min.css node_modules/@kern-ux/native/LICENSE.md vendor/kern/ \
    && cp -r node_modules/@kern-ux/native/dist/fonts/fira-sans.css node_modules/@kern-ux/native/dist/fonts/fira-sans vendor/kern/fonts/

# --- the application ------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KOOP_ENV=production \
    KOOP_INSTANCE_DIR=/var/lib/koopboard

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
COPY --from=assets /build/vendor/ koopboard/static/vendor/
RUN if find koopboard/translations -name '*.po' 2>/dev/null | grep -q .; then \
        pybabel compile -q -f -d koopboard/translations; \
    fi \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home koopboard \
    && mkdir -p /var/lib/koopboard \
    && chown koopboard:koopboard /var/lib/koopboard

USER koopboard
EXPOSE 8000
# KOOP_ENV=production refuses to start without a strong SECRET_KEY: pass it at run time.
CMD ["gunicorn", "--bind=0.0.0.0:8000", "--workers=2", "--access-logfile=-", "app:app"]
