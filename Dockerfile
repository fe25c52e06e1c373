# Stampede's images, from one file:
#   docker build --target web   -t stampede-web .    gunicorn (and, with another command, Celery)
#   docker build --target nginx -t stampede-nginx .  nginx with the static files and the shared config
# docker-compose.yml builds both. No `# syntax=` line: it makes BuildKit pull a frontend image,
# which fails where no registry answers; the built-in frontend knows RUN --mount=type=cache.
#
# The base images are build arguments, the official ones by default; `make compose` points them at
# stand-ins built from Debian's packages where no registry answers (deploy/images/), and a company
# can point them at its own mirror: --build-arg PYTHON_IMAGE=registry.example.com/python:3.11-slim.
ARG PYTHON_IMAGE=python:3.11-slim
ARG NGINX_IMAGE=nginx:1.30-alpine

# --- build: dependencies into a venv, static files collected -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Requirements first: the dependency layer is reused until requirements.txt changes.
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY . .
# Production settings refuse to load without a 50+ character SECRET_KEY. This one exists only
# for this RUN (collectstatic signs nothing); the real key comes from the environment at run time.
RUN SECRET_KEY="build-only-collectstatic-key-not-used-at-runtime-0123456789abcdef" SHOP_DEMO_PAYMENTS=true \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    python manage.py collectstatic --noinput

# --- web: gunicorn by default; compose runs the Celery worker, beat and migrations from it too ---
FROM ${PYTHON_IMAGE} AS web
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 stampede \
    && useradd --system --uid 10001 --gid stampede --home-dir /app --no-create-home stampede
COPY --from=build /opt/venv /opt/venv
# The code and the collected static files (WhiteNoise's manifest maps names to hashed files)
# stay owned by root: the app cannot rewrite itself. Only media and /tmp are writable.
COPY --from=build /app /app
RUN install -d -o stampede -g stampede /app/media /tmp/prometheus
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /healthz checks the process only; compose's web service probes /readyz instead. No curl in slim.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# CMD, not ENTRYPOINT, so compose's `command:` can run Celery or manage.py from the same image.
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"]

# --- nginx: the microcache, rate limits and static files in front of the web replicas ----------
# 1.27.3+ re-resolves `server web:8000 resolve;`, so `--scale web=N` reaches new replicas
# without restarting nginx. The current stable line; pin it by digest (nginx:1.30-alpine@sha256:...)
# where the registry can be read: a digest cannot be looked up or checked from this machine.
FROM ${NGINX_IMAGE} AS nginx
COPY --from=build /app/staticfiles /srv/static
COPY deploy/nginx/errors /srv/errors
COPY deploy/nginx/page-cache-keys.conf /etc/nginx/stampede/page-cache-keys.conf
# The image's entrypoint renders /etc/nginx/templates/*.template into conf.d/ with envsubst,
# replacing the stock default.conf; NGINX_ENVSUBST_FILTER keeps nginx's own $variables intact.
COPY deploy/nginx/stampede.conf.template /etc/nginx/templates/default.conf.template
