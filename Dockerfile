# StreetWatch image: one image for both `streetwatch api` (the default command) and `streetwatch worker`.
# Model weights and clips are NOT in the image: mount them read-only at /assets (see docker-compose.yml).

# The dashboard's third-party files (Leaflet, Chart.js) from web/package-lock.json; the page itself is plain
# ES modules, served by the API with everything else (the centre's network has no internet).
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN node build.mjs && rm -rf node_modules

FROM python:3.11-slim

# CPU-only torch wheels (ultralytics pulls torch); build with --build-arg TORCH_INDEX_URL= for PyPI's default.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREETWATCH_ASSETS=/assets \
    STREETWATCH_MEDIA_DIR=/data/media \
    STREETWATCH_WEB_DIR=/app/web

# ultralytics depends on opencv-python (not headless), which needs libGL and glib at import time.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that code changes do not reinstall torch.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install ${TORCH_INDEX_URL:+--extra-index-url $TORCH_INDEX_URL} -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
COPY --from=web /web /app/web
RUN pip install --no-deps . \
    && rm -rf ./build ./*.egg-info \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin streetwatch \
    && mkdir -p /app/var /data/media /assets \
    && chown streetwatch:streetwatch /app/var /data/media

USER 10001

EXPOSE 8000

# SIGINT is what both commands shut down cleanly on (the worker flushes its buffered events).
STOPSIGNAL SIGINT

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health/ready', timeout=4)"]

CMD ["streetwatch", "api", "--config", "/app/config/demo.yaml", "--host", "0.0.0.0"]
