#!/usr/bin/env bash
# System packages the tests need, installed only if missing:
#   chromium        - Debian's browser at /usr/bin/chromium, driven by Playwright in tests/e2e
#                     (`npx playwright install` cannot download a browser on our machines)
#   docker-compose  - v1, used only as `docker-compose config -q` to validate docker-compose.yml
#                     (no Docker engine needed)
#   wrk             - HTTP load generator, used by bench/bench_pages.py (make bench)
# Installs with apt-get only when running as root on a Debian-like system; otherwise it prints
# what is missing and carries on: the tests that need a missing tool skip with a reason
# (except under CI=true, where they fail).
set -euo pipefail

declare -A package_for=([chromium]=chromium [docker-compose]=docker-compose [wrk]=wrk)
missing=()
for tool in chromium docker-compose wrk; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${package_for[$tool]}")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-system: chromium, docker-compose and wrk present."
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-system: NOTE: missing ${missing[*]}; not root with apt-get, so not installing." >&2
    echo "setup-system: install them yourself (Debian/Ubuntu: sudo apt-get install ${missing[*]})," >&2
    echo "setup-system: or the tests that need them will be skipped." >&2
    exit 0
fi

# Another apt/dpkg run (e.g. a provisioning script) may hold the lock: wait for it.
wait_for_apt() {
    local waited=0
    while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock \
        >/dev/null 2>&1; do
        if [ "$waited" -eq 0 ]; then echo "setup-system: waiting for another apt/dpkg run..."; fi
        sleep 3
        waited=$((waited + 3))
        if [ "$waited" -ge 900 ]; then
            echo "setup-system: apt is still locked after 15 minutes; giving up." >&2
            exit 1
        fi
    done
}
if command -v fuser >/dev/null 2>&1; then wait_for_apt; fi

echo "setup-system: installing ${missing[*]} with apt-get..."
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -q
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
echo "setup-system: done."
