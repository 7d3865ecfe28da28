"""What every `streetwatch` command that reads the configuration does with a bad one: say where, exit 2."""

from __future__ import annotations

from pathlib import Path

import typer

from settings import AppConfig, ConfigError, load_config


def load_or_exit(path: Path) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"配置错误 configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
