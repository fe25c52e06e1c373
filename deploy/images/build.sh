#!/usr/bin/env bash
# Build the stand-ins of deploy/images/Dockerfile from Debian's packages, for a machine where no
# image registry answers: a debootstrap root file system imported as the base, then each image
# under the project's own names. Prints NAME=image lines for the compose file's image variables.
# Cached: a second run rebuilds only what changed. Usage: deploy/images/build.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
base="stampede-offline/debian:$suite"
declare -A TAGS=([python]=3.11 [nginx]=1.30 [postgres]=15 [redis]=7 [prometheus]=2.42)
declare -A VARIABLES=([python]=PYTHON_IMAGE [nginx]=NGINX_IMAGE [postgres]=POSTGRES_IMAGE [redis]=REDIS_IMAGE [prometheus]=PROMETHEUS_IMAGE)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! docker image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || "$here/../system-packages.sh" debootstrap >&2
    echo "Building $base with debootstrap (about a minute)" >&2
    PATH="$PATH:/usr/sbin" debootstrap --variant=minbase "$suite" "$work/root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
    tar -C "$work/root" -c . | docker import - "$base" >&2
    rm -rf "$work/root"
fi
cp "$here/Dockerfile" "$here"/*-entrypoint.sh "$work/"
cp /etc/ssl/certs/ca-certificates.crt "$work/"
for target in python nginx postgres redis prometheus; do
    image="stampede-offline/$target:${TAGS[$target]}"
    echo "Building $image" >&2
    docker build -q --target "$target" --build-arg "BASE=$base" -t "$image" "$work" >&2
    echo "${VARIABLES[$target]}=$image"
done
