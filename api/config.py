"""How the case API runs: database, login, routing, camera verification, webhooks, the map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, field_validator

from api.services.health import HealthBounds
from api.services.routing import RoutingConfig
from api.services.verification import VerificationConfig
from api.services.webhooks import WebhookConfig
from models.registry import PROJECT_ROOT


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_ttl_h: float = Field(12.0, gt=0, le=24 * 30, description="Hours a login lasts (a shift).")
    login_attempts_per_minute: int = Field(10, ge=1, le=1000, description="Failed logins allowed each minute "
                                           "for one account from one address (never for an account alone, so "
                                           "nobody can lock another person out).")
    login_attempts_per_address_per_minute: int = Field(50, ge=1, le=100_000, description="Failed logins allowed "
                                                       "each minute from one address, whatever the account.")
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list, description="Reverse proxies (addresses "
                                                 "or networks, e.g. 10.0.0.5 or 10.0.0.0/24) whose "
                                                 "X-Forwarded-For names the client; none by default, so the "
                                                 "header is ignored and the peer is the client.")
    secure_cookie: bool = Field(False, description="Send the browser cookie over HTTPS only (behind TLS).")


class MapLayer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    file: str = Field(description="A GeoJSON file (lon/lat, WGS 84).")
    kind: str = Field("area", max_length=32, description="How it is drawn: grid, school, hospital, area, road...")

    @field_validator("file")
    @classmethod
    def _exists(cls, file: str) -> str:
        if not Path(file).is_file():
            raise ValueError(f"GeoJSON file not found: {file}")
        return file


class MapConfig(BaseModel):
    """The dashboard map draws these layers with no tile server unless `tile_url` names a local one."""

    model_config = ConfigDict(extra="forbid")

    center: tuple[float, float] | None = Field(None, description="lon, lat; default: the middle of the layers.")
    zoom: int = Field(15, ge=1, le=22)
    tile_url: str | None = Field(None, description="A tile server on the centre's own network, e.g. "
                                 "http://tiles.local/{z}/{x}/{y}.png; none by default (no internet there).")
    layers: list[MapLayer] = Field(default_factory=list)


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        "sqlite:///var/streetwatch.db",
        description="SQLAlchemy URL: SQLite by default, postgresql+psycopg://... in production.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    consume: bool = Field(True, description="Run the event consumer inside the API process.")
    auth: AuthConfig = Field(default_factory=AuthConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    verification: VerificationConfig = Field(default_factory=VerificationConfig)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    escalate_every_s: float = Field(30.0, gt=0, description="How often overdue cases are looked for.")
    health: HealthBounds = Field(default_factory=HealthBounds)
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body (uploads have their own).")
    max_upload_mb: float = Field(200.0, gt=0, le=10_000, description="Largest clip uploaded for a what-if.")
    request_timeout_s: float = Field(20.0, gt=0, description="A request with no answer by then gets 503.")
    statement_timeout_s: float = Field(15.0, gt=0, description="Longest a database statement or lock may take.")
    metrics_token: SecretStr | None = Field(None, description="Bearer token a Prometheus scraper sends to /metrics "
                                            "(write ${ENV_VAR}); without it only an admin login may read them.")
    map: MapConfig = Field(default_factory=MapConfig)
    web_dir: str = Field(str(PROJECT_ROOT / "web"), description="The dashboard's files.")

    @field_validator("routing", mode="before")
    @classmethod
    def _routing_file(cls, value: Any) -> Any:
        """`routing: routing.yaml` reads the table from its own file (made absolute by the config loader)."""
        if not isinstance(value, str):
            return value
        try:
            return yaml.safe_load(Path(value).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ValueError(f"routing file not found: {value}") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"routing file {value} is not valid YAML: {exc}") from None

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, hooks: list[WebhookConfig]) -> list[WebhookConfig]:
        names = [h.name for h in hooks]
        if len(set(names)) != len(names):
            raise ValueError("webhook names must be unique")
        return hooks
