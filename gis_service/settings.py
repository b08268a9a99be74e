"""Service settings, read once from the environment (prefix ``SCHOOLGIS_``)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Folder of the district bundled with the service (Quận 3, Hồ Chí Minh City).
BUNDLED_DISTRICT_DIR = Path(__file__).resolve().parents[1] / "data" / "hcmc-district3"

#: The usual cap on pupils per primary class in Vietnam.
DEFAULT_CLASS_SIZE_CAP = 35
#: A school not verified for longer than this (days) counts as stale in the quality report.
STALE_AFTER_DAYS = 365

_SPATIALITE_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
    "/usr/lib/aarch64-linux-gnu/mod_spatialite.so",
    "/usr/lib64/mod_spatialite.so",
    "/usr/local/lib/mod_spatialite.so",
    "/opt/homebrew/lib/mod_spatialite.dylib",
)


def default_data_dir() -> Path:
    """Return the per-user folder where the embedded store lives by default."""
    return Path(platformdirs.user_data_dir("schoolgis"))


def find_spatialite() -> str:
    """Return the path of the ``mod_spatialite`` SQLite extension.

    Raises
    ------
    FileNotFoundError
        If no known location holds it.
    """
    for candidate in _SPATIALITE_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    msg = (
        "mod_spatialite was not found (install Debian's libsqlite3-mod-spatialite or set "
        "SCHOOLGIS_SPATIALITE_PATH)"
    )
    raise FileNotFoundError(msg)


class Settings(BaseSettings):
    """Settings of one running service.

    Every field can be set from the environment with the ``SCHOOLGIS_`` prefix, for example
    ``SCHOOLGIS_DATA_DIR``; the store URL is also read from ``DATABASE_URL``.
    """

    model_config = SettingsConfigDict(env_prefix="SCHOOLGIS_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SCHOOLGIS_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL of a PostGIS store; the embedded SpatiaLite file when unset.",
    )
    spatialite_path: str | None = None
    district_code: str | None = Field(
        default=None, description="District served when the store holds several."
    )
    class_size_cap: int = Field(default=DEFAULT_CLASS_SIZE_CAP, ge=1, le=100)
    load_bundled_district: bool = True
    api_key_header_realm: str = "schoolgis"
    map_tile_url: str | None = Field(
        default=None,
        description="An online tile layer for the web map ({z}/{x}/{y} URL); none by default.",
    )
    map_tile_attribution: str = "© OpenStreetMap contributors"
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (e.g. a district's website with the exported map) allowed "
        "to call the public GET endpoints from a browser; none by default.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql", "sqlite")):
            msg = f"DATABASE_URL must be a postgresql:// or sqlite:// URL, got {value!r}"
            raise ValueError(msg)
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL of the store: PostGIS when configured, else the SpatiaLite file."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'schoolgis.sqlite'}"

    @property
    def networks_dir(self) -> Path:
        """Folder holding registered road-network extracts and their graph caches."""
        return self.data_dir / "networks"

    def resolved_spatialite_path(self) -> str:
        """Return the configured ``mod_spatialite`` path or find the installed one."""
        return self.spatialite_path or find_spatialite()
