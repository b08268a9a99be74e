"""Service settings, read once from the environment (prefix ``SCHOOLGIS_``)."""

from __future__ import annotations

from pathlib import Path

import limits
import platformdirs
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Folder of the district bundled with the service (Quận 3, Hồ Chí Minh City).
BUNDLED_DISTRICT_DIR = Path(__file__).resolve().parents[1] / "data" / "hcmc-district3"

#: The usual cap on pupils per primary class in Vietnam.
DEFAULT_CLASS_SIZE_CAP = 35
#: The most first-grade classes a school may have: a large primary school opens about a dozen.
MAX_FIRST_GRADE_CLASSES = 30
#: The largest class-size cap a school or a district may set.
MAX_CLASS_SIZE_CAP = 100
#: The most first-grade seats a round may give one school.
MAX_FIRST_GRADE_SEATS = MAX_FIRST_GRADE_CLASSES * MAX_CLASS_SIZE_CAP
#: The largest id or offset a request may name: stored ids are 32-bit integers.
MAX_ID = 2**31 - 1
#: Anonymous writes per client (``limits`` notation; ``;`` separates several).
DEFAULT_RATE_LIMIT_WRITES = "10/minute;50/day"
#: Anonymous look-ups (eligibility, schools search) per client.
DEFAULT_RATE_LIMIT_LOOKUPS = "120/minute"
#: Reads of an application with its secret per client.
DEFAULT_RATE_LIMIT_SECRET_LOOKUPS = "30/minute"  # noqa: S105 - a rate, not a secret
#: Secrets that did not match per client before every read with a secret is refused.
DEFAULT_RATE_LIMIT_SECRET_FAILURES = "10/hour"  # noqa: S105 - a rate, not a secret
#: Where rate-limit counts may be kept.
RATE_LIMIT_STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://")
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
    class_size_cap: int = Field(default=DEFAULT_CLASS_SIZE_CAP, ge=1, le=MAX_CLASS_SIZE_CAP)
    load_bundled_district: bool = True
    prepare_store_at_start: bool = Field(
        default=True,
        description="Bring the store to the newest schema, load the bundled district into "
        "an empty one and fail the runs a stopped service left running, when the service "
        "starts; `schoolgis serve` does it once itself before starting several processes.",
    )
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

    rate_limit_enabled: bool = Field(
        default=True,
        description="Count anonymous requests per client and answer 429 past the limits "
        "below; staff keys are never counted.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the counts are kept: memory:// (one process) or a "
        "redis://host:port/db URL shared by every process of the service.",
    )
    rate_limit_key_prefix: str = Field(
        default="schoolgis",
        min_length=1,
        max_length=100,
        description="Prefix of the service's keys in a shared Redis.",
    )
    rate_limit_writes: str = Field(
        default=DEFAULT_RATE_LIMIT_WRITES,
        description="Anonymous writes (a family's application) per client, "
        "e.g. '10/minute;50/day'.",
    )
    rate_limit_lookups: str = Field(
        default=DEFAULT_RATE_LIMIT_LOOKUPS,
        description="Anonymous look-ups (eligibility, schools search) per client.",
    )
    rate_limit_secret_lookups: str = Field(
        default=DEFAULT_RATE_LIMIT_SECRET_LOOKUPS,
        description="Reads of an application with its secret per client.",
    )
    rate_limit_secret_failures: str = Field(
        default=DEFAULT_RATE_LIMIT_SECRET_FAILURES,
        description="Secrets that did not match per client; past it every read with a "
        "secret answers 429 until the window moves on.",
    )

    @property
    def rate_limits_in_memory(self) -> bool:
        """Whether the rate-limit counts live in this process's memory (not shared)."""
        return self.rate_limit_storage.startswith("memory")

    @field_validator(
        "rate_limit_writes",
        "rate_limit_lookups",
        "rate_limit_secret_lookups",
        "rate_limit_secret_failures",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            limits.parse_many(value)
        except ValueError:
            msg = f"a rate limit reads like '10/minute' or '10/minute;50/day', got {value!r}"
            raise ValueError(msg) from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, value: str) -> str:
        if not value.startswith(RATE_LIMIT_STORAGE_SCHEMES):
            msg = f"SCHOOLGIS_RATE_LIMIT_STORAGE must be memory:// or a redis:// URL, got {value!r}"
            raise ValueError(msg)
        return value

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
