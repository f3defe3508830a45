# syntax=docker/dockerfile:1
#
# Doorstep: one image for web (gunicorn), Celery worker and Celery beat.
# See docker-compose.yml for how the three are started, and .env.example for
# the settings the running containers read.

FROM python:3.12-slim

# WeasyPrint needs Pango/HarfBuzz (and at least one font) at runtime; the cards
# print in DejaVu, and emoji in customers' names in Noto Color Emoji (without it
# they print as empty boxes). gettext provides msgfmt for anyone who prefers
# `compilemessages` over the polib command.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        fonts-noto-color-emoji \
        gettext \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PATH=/opt/venv/bin:$PATH

RUN pip install "uv==0.13.9"

WORKDIR /app

# Dependencies first, so editing the code does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

COPY . .

# Build-time only: settings refuse to load without a SECRET_KEY when DEBUG is
# off, and collectstatic must run with DEBUG off to get whitenoise's
# compressed, hashed manifest storage. This key never reaches the runtime image
# environment; the real one comes from .env.
ARG BUILD_ONLY_DJANGO_KEY=build-only-dummy-value-not-used-at-runtime-0123456789abcdefghij
# static/ is created in case the checkout has no static files (git drops empty dirs).
RUN mkdir -p static \
    && export DEBUG=0 SECRET_KEY="$BUILD_ONLY_DJANGO_KEY" \
    && python manage.py compile_catalogs \
    && python manage.py collectstatic --noinput

# Run as an unprivileged user. The code and the collected static files
# (/app/staticfiles, outside the var/ volume so that each build brings its own)
# stay owned by root (read-only for the app); only var/ and the user's home (where
# fontconfig, used by WeasyPrint, may keep its cache) are writable.
RUN groupadd --system --gid 10001 doorstep \
    && useradd --system --uid 10001 --gid doorstep --create-home --home-dir /home/doorstep --shell /usr/sbin/nologin doorstep \
    && mkdir -p /app/var \
    && chown doorstep:doorstep /app/var
USER doorstep

EXPOSE 8000

CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
