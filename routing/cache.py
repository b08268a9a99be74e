"""Load-or-build: the only module of :mod:`routing` that reads and writes files.

A network is built once from its OSM XML extract (``osmnx.graph_from_xml``, no network
access) and saved as an uncompressed ``.npz`` of its arrays, named after the extract and
keyed by the SHA-256 of the extract, the build options (modes, speeds, CRS,
simplification), the cache format and the osmnx version. Loading a cached network reads
arrays only (no XML, no pickles), which takes milliseconds for a district and well under
a second for a city.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import osmnx as ox
from pyproj import CRS

from routing.errors import NetworkDataError
from routing.network import BUILD_STEPS, BuildOptions, RoadNetwork, network_from_osm_graph

#: Bumped whenever the saved arrays change meaning.
CACHE_FORMAT = 3
#: Extensions of OSM XML files that osmnx reads.
OSM_XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".xml.bz2", ".osm.gz", ".xml.gz")
#: Every step :func:`load_network` may report, in order (``load`` only for a cache hit).
LOAD_STEPS = ("hash", "load", "read", *BUILD_STEPS, "save")
#: OSM way tags the builder reads on top of osmnx's defaults.
WAY_TAGS = ("route", "foot", "motorcycle", "motor_vehicle", "vehicle", "access", "junction")

_OSMNX_SETTINGS = threading.Lock()
_ARRAY_FIELDS = (
    "node_osmid",
    "node_x",
    "node_y",
    "edge_u",
    "edge_v",
    "edge_key",
    "edge_osmid",
    "edge_length_m",
    "edge_time_s",
    "edge_oneway",
    "edge_ferry",
    "edge_twin",
    "edge_highway",
    "edge_name",
    "coord_ptr",
    "coords",
)


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes.

    Raises
    ------
    NetworkDataError
        If the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        msg = f"{path}: cannot read the OSM extract ({error.strerror or error})"
        raise NetworkDataError(msg) from None
    return digest.hexdigest()


def cache_key(source_sha256: str, options: BuildOptions) -> str:
    """Return the cache key of a build: source hash, options, format and osmnx version."""
    text = json.dumps(
        {
            "source": source_sha256,
            "options": options.fingerprint(),
            "format": CACHE_FORMAT,
            "osmnx": version("osmnx"),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_path(source: Path, cache_dir: Path, key: str) -> Path:
    """Return where the network of ``source`` with cache key ``key`` is saved."""
    stem = source.name.split(".")[0] or "network"
    return cache_dir / f"{stem}-{key}.npz"


def load_network(
    source: Path,
    *,
    cache_dir: Path,
    options: BuildOptions | None = None,
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RoadNetwork:
    """Return the network of an OSM XML extract, from the cache or built and then cached.

    Parameters
    ----------
    source
        The OSM XML extract (``.osm``, ``.osm.bz2``, ``.osm.gz``...).
    cache_dir
        Folder of the cached networks (created if missing).
    options
        Build options (:class:`~routing.network.BuildOptions` defaults if ``None``).
    rebuild
        Build even if a cached network exists, and replace it.
    progress
        Called with each name of :data:`LOAD_STEPS` as the step starts.

    Returns
    -------
    RoadNetwork
        The network; its ``source_sha256`` is the hash of ``source``.

    Raises
    ------
    NetworkDataError
        If the extract is missing, not OSM XML, or holds no usable road.
    """
    options = options or BuildOptions()
    report = progress or (lambda _step: None)
    if not source.name.endswith(OSM_XML_SUFFIXES):
        msg = f"{source}: the road extract must be OSM XML ({', '.join(OSM_XML_SUFFIXES)})"
        raise NetworkDataError(msg)
    report("hash")
    sha = file_sha256(source)
    path = cache_path(source, cache_dir, cache_key(sha, options))
    if path.exists() and not rebuild:
        report("load")
        cached = read_network(path, options=options)
        if cached is not None and cached.source_sha256 == sha:
            return cached
    report("read")
    graph = _read_osm_xml(source)
    network = network_from_osm_graph(graph, options=options, source_sha256=sha, progress=progress)
    report("save")
    write_network(network, path)
    return network


def _read_osm_xml(source: Path) -> Any:
    with _OSMNX_SETTINGS, _extra_way_tags(WAY_TAGS):
        try:
            return ox.graph_from_xml(source, simplify=False, retain_all=True)
        except (SyntaxError, OSError, EOFError, ValueError, KeyError) as error:  # ParseError
            msg = f"{source}: not a readable OSM XML extract ({type(error).__name__}: {error})"
            raise NetworkDataError(msg) from None


@contextlib.contextmanager
def _extra_way_tags(tags: tuple[str, ...]) -> Iterator[None]:
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = saved + [tag for tag in tags if tag not in saved]
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def write_network(network: RoadNetwork, path: Path) -> None:
    """Save ``network`` to ``path`` atomically (written beside it, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": CACHE_FORMAT,
        "crs": network.crs.to_wkt(),
        "source_sha256": network.source_sha256,
        "options_fingerprint": network.options_fingerprint,
        "highway_names": list(network.highway_names),
        "street_names": list(network.street_names),
    }
    arrays = {name: getattr(network, name) for name in _ARRAY_FIELDS}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, meta=np.array(json.dumps(meta)), **arrays)
        Path(temporary).chmod(0o644)  # mkstemp makes it private; the cache is shared
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_network(path: Path, *, options: BuildOptions) -> RoadNetwork | None:
    """Return the network saved at ``path``, or ``None`` if the file is unusable.

    A file written by another format version or with other options, or a damaged file,
    gives ``None`` so that the caller rebuilds it.
    """
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            arrays = {name: saved[name] for name in _ARRAY_FIELDS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if meta.get("format") != CACHE_FORMAT:
        return None
    if meta.get("options_fingerprint") != options.fingerprint():
        return None
    try:
        return RoadNetwork(
            crs=CRS.from_wkt(meta["crs"]),
            modes=options.modes,
            highway_names=tuple(meta["highway_names"]),
            street_names=tuple(meta["street_names"]),
            source_sha256=str(meta["source_sha256"]),
            options_fingerprint=str(meta["options_fingerprint"]),
            **arrays,
        )
    except (NetworkDataError, KeyError, ValueError):
        return None
