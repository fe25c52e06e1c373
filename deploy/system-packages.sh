#!/usr/bin/env bash
# Install the Debian packages the suite, `make stack`, `make bench` and `make loadtest` drive, only those
# missing, so a new machine needs nothing by hand. Usage: deploy/system-packages.sh [PACKAGE ...] (extras)
set -euo pipefail

# command the project runs -> the Debian package that ships it
declare -A PACKAGE_OF=(
  [nginx]=nginx                  # the edge in front of the replicas (make stack, stack tests, bench, loadtest)
  [promtool]=prometheus          # alert-rule unit tests
  [prometheus]=prometheus        # the live Prometheus beside `make loadtest`
  [chromium]=chromium            # tests/browser: Playwright drives this one, never downloads its own
  [wrk]=wrk                      # make bench
  [redis-server]=redis-server    # failure tests start a Redis of their own
  [pg_isready]=postgresql-client # .ci/run waits for PostgreSQL with it
)

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
for command in "${!PACKAGE_OF[@]}"; do
  # Debian puts nginx in /usr/sbin, which a non-login shell may not have on its PATH.
  command -v "$command" >/dev/null || [ -x "/usr/sbin/$command" ] || missing+=("${PACKAGE_OF[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${packages[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
