"""Reading vector files (GeoJSON, GeoPackage, Shapefile, gzip-compressed or not)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd

from gis_service.errors import InvalidInputError


def read_vector(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file with geopandas; ``.gz`` files are read through GDAL's gzip reader.

    Messages name the file, never its folder (uploads are read from a temporary folder).

    Raises
    ------
    InvalidInputError
        If the file is missing or not a readable vector file.
    """
    if not path.is_file():
        msg = f"{path.name}: no such file"
        raise InvalidInputError(msg)
    source = f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)
    try:
        frame = gpd.read_file(source)
    except Exception as error:  # noqa: BLE001  (GDAL raises many types for one cause)
        reason = str(error).replace(source, path.name).replace(str(path), path.name)
        msg = f"{path.name}: not a readable vector file ({reason})"
        raise InvalidInputError(msg) from None
    if frame.crs is None:
        msg = f"{path.name}: the file does not say its CRS"
        raise InvalidInputError(msg)
    return frame


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
