"""One YAML file for a deployment: cameras, zones, rules and settings, checked on load.

Below the entry points (cli, evaluation, training, bench), above the packages it configures (api, worker,
events), so that any tool can load a configuration without importing another tool.

Strings may use ${VAR} or ${VAR:-default}; ${STREETWATCH_ASSETS} defaults to the
shared assets beside the project. Relative video paths are relative to the file.
A few settings can be overridden from the environment (see ENV_OVERRIDES).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError

from api.config import ApiConfig
from bus import BusConfig
from models import DEFAULT_ASSETS_DIR
from models.registry import PROJECT_ROOT
from streams.config import is_network_url
from worker import WorkerConfig

DEMO_CONFIG = PROJECT_ROOT / "config" / "demo.yaml"

ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "STREETWATCH_MODEL": ("detector", "model"),
    "STREETWATCH_DEVICE": ("detector", "device"),
    "REDIS_URL": ("bus", "redis_url"),
    "DATABASE_URL": ("api", "database_url"),
    "STREETWATCH_MEDIA_DIR": ("media_dir",),
    "STREETWATCH_WEB_DIR": ("api", "web_dir"),
}

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file, the field and the problem."""


class AppConfig(WorkerConfig):
    model_config = ConfigDict(extra="forbid")

    media_dir: str = Field("var/media", description="Snapshots (the evidence pictures) go here.")
    bus: BusConfig = Field(default_factory=BusConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)


def read_document(path: Path | str, what: str = "configuration file") -> dict[str, Any]:
    """A YAML mapping with ${VAR}s expanded; ConfigError names the file and what is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    variables = {"STREETWATCH_ASSETS": str(DEFAULT_ASSETS_DIR), **os.environ, "CONFIG_DIR": str(path.parent)}
    return expand_variables(raw, variables, path, ())


def load_config(path: Path | str) -> AppConfig:
    path = Path(path)
    data = read_document(path)
    apply_env_overrides(data)
    _resolve_paths(data, path.parent.resolve())
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(path, exc)) from None


def format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the configuration"]
    for error in exc.errors():
        location = _location(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {path}: {location or '(top level)'}: {message}")
    return "\n".join(lines)


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def expand_variables(value: Any, variables: dict[str, str], path: Path, loc: tuple[Any, ...]) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string of a loaded YAML tree."""
    if isinstance(value, dict):
        return {k: expand_variables(v, variables, path, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_variables(v, variables, path, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if default is not None:
            return default
        raise ConfigError(f"{path}: {_location(loc)}: environment variable {name} is not set")

    return _VARIABLE.sub(substitute, value)


def apply_env_overrides(data: dict[str, Any], only: tuple[str, ...] | None = None) -> None:
    """Settings the environment gives win over the file (`only`: just these variables)."""
    for variable, keys in ENV_OVERRIDES.items():
        value = os.environ.get(variable)
        if not value or (only is not None and variable not in only):
            continue
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value


def _relative_to(base: Path, value: Any) -> Any:
    return str(base / value) if isinstance(value, str) and value and not Path(value).is_absolute() else value


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative paths in the file are relative to the file, as a reader of it would expect."""
    api = data.get("api")
    if isinstance(api, dict):
        if "routing" in api:
            api["routing"] = _relative_to(base, api["routing"])
        layers = api.get("map", {}).get("layers") if isinstance(api.get("map"), dict) else None
        for layer in layers or []:
            if isinstance(layer, dict):
                layer["file"] = _relative_to(base, layer.get("file"))
    for camera in data.get("cameras") or []:
        source = camera.get("source") if isinstance(camera, dict) else None
        url = source.get("url") if isinstance(source, dict) else None
        if isinstance(url, str) and url and not is_network_url(url) and not Path(url).is_absolute():
            source["url"] = str(base / url)
    detector = data.get("detector")
    if not isinstance(detector, dict):
        return
    if isinstance(detector.get("model"), str) and (base / detector["model"]).exists():
        detector["model"] = str(base / detector["model"])
    for spec in detector.get("models") or []:
        if not isinstance(spec, dict):
            continue
        if isinstance(spec.get("manifest"), str) and not Path(spec["manifest"]).is_absolute():
            spec["manifest"] = str(base / spec["manifest"])
        # A bare name such as yolo11n.pt is left for Ultralytics to find or download.
        if isinstance(spec.get("path"), str) and (base / spec["path"]).exists():
            spec["path"] = str(base / spec["path"])
