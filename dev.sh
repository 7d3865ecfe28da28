#!/usr/bin/env bash
# StreetWatch quick start. Sets up a virtual environment (cached between runs and clones),
# then runs one of:
#   ./dev.sh demo   the residential clip as live camera demo-1, cases at http://127.0.0.1:8000
#   ./dev.sh test   lint and the whole test suite on real Redis, PostgreSQL and footage
# Anything after the first word is passed on (e.g. ./dev.sh demo --duration 60, ./dev.sh test -k rules).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
task=${1:-demo}
shift || true

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
# The cached environment is keyed on the dependency lists, so other edits to pyproject.toml reuse it.
stamp=$(sed -n '/^dependencies = \[/,/^\]/p; /^\[project.optional-dependencies\]/,/^$/p' pyproject.toml \
  | sha256sum | cut -c1-12)
VENV=${STREETWATCH_VENV:-$HOME/.cache/streetwatch/venv-py311-$stamp}
export STREETWATCH_ASSETS=${STREETWATCH_ASSETS:-$ROOT/../shared/assets}

setup_venv() {
  mkdir -p "$(dirname "$VENV")"
  exec 9>"$VENV.lock"
  flock 9  # two runs at once (CI beside a developer) must not build the same environment
  if [ ! -f "$VENV/.installed" ]; then
    echo "==> creating $VENV (first run: installs Ultralytics and PyTorch, a few minutes)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    if ! { "$VENV/bin/pip" install --upgrade pip setuptools wheel && "$VENV/bin/pip" install ".[test]"; } \
        >"$VENV.install.log" 2>&1; then
      tail -n 40 "$VENV.install.log" >&2
      echo "error: installing the environment failed; full log in $VENV.install.log" >&2
      exit 1
    fi
    touch "$VENV/.installed"
  fi
  # The project itself is installed editable from this checkout on every run: cheap, and right
  # when the cached environment was made from another clone.
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e . >"$VENV.editable.log" 2>&1 \
    || { cat "$VENV.editable.log" >&2; exit 1; }
  flock -u 9
  export PATH="$VENV/bin:$PATH"
}

build_web() {
  # The dashboard's third-party files (Leaflet, Chart.js) come from npm into web/vendor/ (gitignored),
  # rebuilt when missing or when web/package-lock.json is newer than the last build.
  if [ -d web/vendor ] && [ ! web/package-lock.json -nt web/vendor ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "error: building the dashboard needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "==> building the dashboard (npm ci, web/build.mjs)"
  mkdir -p var
  if ! (cd web && npm ci --no-audit --no-fund --loglevel=error && node build.mjs) >var/web-build.log 2>&1; then
    tail -n 20 var/web-build.log >&2
    echo "error: building the dashboard failed; full log in var/web-build.log" >&2
    exit 1
  fi
}

start_services() {
  # Real Redis and PostgreSQL on loopback, started only when they are not already answering.
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    echo "==> starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && return 0
    sleep 0.2
  done
  echo "warning: Redis or PostgreSQL is not answering on 127.0.0.1; tests that need them will fail" >&2
}

apt_install() {
  # Debian packages the tests use; best effort, and only where this script may install them.
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 1
  [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

install_system_tools() {
  if ! command -v ffmpeg >/dev/null; then
    echo "==> installing ffmpeg (the decode benchmark's reference)"
    apt_install ffmpeg || echo "warning: no ffmpeg; the benchmark tests leave its reference out" >&2
  fi
  if ! command -v wrk >/dev/null; then
    echo "==> installing wrk (the load tool of the case API benchmark)"
    apt_install wrk || echo "warning: no wrk; the case API benchmark test will be skipped" >&2
  fi
  if ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null; then
    echo "==> installing GStreamer's RTSP server (Debian) for the live-camera tests"
    apt_install python3-gi gir1.2-gst-rtsp-server-1.0 \
      || echo "warning: no GStreamer RTSP server; the live-camera tests will be skipped" >&2
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Chromium (Debian) and a Chinese font for the dashboard's browser tests"
    apt_install chromium fonts-wqy-microhei \
      || echo "warning: no Chromium at /usr/bin/chromium; the dashboard tests (tests/web) will fail" >&2
  fi
  # docker-compose only validates the compose file (no engine is needed); best effort.
  if ! command -v docker-compose >/dev/null; then
    echo "==> installing docker-compose (Debian) to validate docker-compose.yml"
    apt_install docker-compose || echo "warning: no docker-compose; the compose check will be skipped" >&2
  fi
}

case "$task" in
  demo)
    setup_venv
    build_web
    start_services || true
    exec streetwatch demo "$@"
    ;;
  test)
    setup_venv
    build_web
    start_services
    install_system_tools
    echo "==> ruff"
    ruff check .
    if [ $# -eq 0 ]; then
      # Event-level quality on the labelled shared clips: a change that loses alerts fails here.
      echo "==> streetwatch eval (floor F1 0.95; docs/evaluation.md)"
      streetwatch eval tests/data/truth-shared-clips.yaml --out var/eval --min-f1 0.95
    fi
    echo "==> pytest"
    exec python -m pytest -p no:cacheprovider "$@"
    ;;
  bench)
    setup_venv
    install_system_tools
    exec streetwatch bench "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo|test|bench [args...]" >&2
    exit 2
    ;;
esac
