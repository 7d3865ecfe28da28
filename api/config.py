"""How the case API runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        "sqlite:///var/streetwatch.db",
        description="SQLAlchemy URL: SQLite by default, postgresql+psycopg://... in production.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    consume: bool = Field(True, description="Run the event consumer inside the API process.")
