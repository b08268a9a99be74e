#!/usr/bin/env bash
# Installs the Debian packages the service and its tests need (PostGIS, SpatiaLite, npm for
# the web map's Leaflet, Chromium for its browser tests) when they are missing, and makes
# sure the machine's PostgreSQL cluster is running.
set -euo pipefail

pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
packages=(libsqlite3-mod-spatialite chromium)
# npm installs Leaflet for the web map (maps/assets/package.json)
command -v npm >/dev/null || packages+=(npm)
if [ -n "$pg_version" ]; then
    packages+=("postgresql-${pg_version}-postgis-3")
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    echo "Installing Debian packages: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [ -n "$pg_version" ] && command -v pg_ctlcluster >/dev/null \
    && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
fi
