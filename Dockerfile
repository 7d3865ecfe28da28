# StreetWatch images: one for `streetwatch api` (the default command) and `streetwatch worker`.
#   docker build -t streetwatch:0.1.0 .                               CPU (API and CPU workers)
#   docker build --build-arg VARIANT=gpu -t streetwatch-gpu:0.1.0 .   GPU worker (CUDA base, CUDA torch)
# Model weights and clips are NOT in the image: mount them read-only at /assets (see docker-compose.yml).
# Base images are pinned to exact releases; bump them on purpose, with a rebuild and the tests.
ARG VARIANT=cpu
ARG CPU_BASE=python:3.11.11-slim-bookworm
ARG GPU_BASE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# The dashboard's third-party files (Leaflet, Chart.js) from web/package-lock.json; the page itself is plain
# ES modules, served by the API with everything else (the centre's network has no internet).
FROM node:20.18.1-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN node build.mjs && rm -rf node_modules

# CPU: Debian's slim Python, CPU-only torch wheels (ultralytics pulls torch).
FROM ${CPU_BASE} AS base-cpu
ENV TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# ultralytics depends on opencv-python (not headless), which needs libGL and glib at import time.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

# GPU: NVIDIA's CUDA runtime with cuDNN; Python 3.11 from Ubuntu, PyPI's CUDA torch wheels. The host needs the
# NVIDIA driver and Container Toolkit (compose: `gpus: all`; Kubernetes: the device plugin).
FROM ${GPU_BASE} AS base-gpu
ENV TORCH_INDEX_URL= \
    PATH=/opt/venv/bin:$PATH
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv

FROM base-${VARIANT} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREETWATCH_ASSETS=/assets \
    STREETWATCH_MEDIA_DIR=/data/media \
    STREETWATCH_CACHE_DIR=/data/cache \
    STREETWATCH_WEB_DIR=/app/web
WORKDIR /app

# Dependencies first, from the lock alone, so that code changes do not reinstall torch. deploy/requirements.lock
# pins every package of pyproject's dependencies and its `triton` extra, with PyPI's hashes (regenerate: the
# command on its first lines; docs/deploy.md). GPU: installed as it is, every hash checked (PyPI's torch is the
# CUDA build). CPU: the lock's versions as constraints, hashes dropped, with PyTorch's CPU index as well, where
# torch==X is found as X+cpu (no CUDA libraries); those wheels are not on PyPI, so their hashes cannot be locked
# there, and the lock's CUDA-only packages are never asked for. `pip check`: the installed set is consistent.
COPY pyproject.toml ./
COPY deploy/requirements.lock deploy/
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['triton']))" > /tmp/requirements.txt \
        && sed -e 's/ *\\$//' -e '/^ *--hash=/d' deploy/requirements.lock > /tmp/constraints.txt \
        && pip install --extra-index-url "$TORCH_INDEX_URL" -c /tmp/constraints.txt -r /tmp/requirements.txt; \
    else \
        pip install --require-hashes --no-deps -r deploy/requirements.lock; \
    fi \
    && pip check \
    && rm -f /tmp/requirements.txt /tmp/constraints.txt

COPY . .
COPY --from=web /web /app/web
RUN pip install --no-deps . \
    && rm -rf ./build ./*.egg-info \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin streetwatch \
    && mkdir -p /app/var /data/media /data/cache /assets \
    && chown streetwatch:streetwatch /app/var /data/media /data/cache

USER 10001

EXPOSE 8000 9108

# SIGINT is what both commands shut down cleanly on (the worker flushes its buffered events).
STOPSIGNAL SIGINT

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health/ready', timeout=4)"]

CMD ["streetwatch", "api", "--config", "/app/config/demo.yaml", "--host", "0.0.0.0"]
