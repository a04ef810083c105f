#!/usr/bin/env bash
# Builds newsflow's images with nothing pulled from a registry, laid out as
# deploy/Dockerfile's (same user, entrypoint, volume and paths):
#   newsflow:local           static newsflow on a distroless-like root
#   newsflow-nats:local      static nats-server, the version go.mod names
#   newsflow-postgres:local  PostgreSQL from this machine's Debian packages
# (apt-get install postgresql if missing). Reruns reuse Go's build cache and
# Docker's layer cache. Usage: deploy/images/build.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-local}"
export PATH="/usr/local/go/bin:$PATH"
out="${NEWSFLOW_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsflow-images}"
here=deploy/images

# A root filesystem like distroless static's nonroot image: CA certificates,
# users root, nobody and nonroot (65532), /tmp.
base="$out/newsflow/base"
rm -rf "$base" && mkdir -p "$base/etc/ssl/certs" "$base/tmp" "$out/newsflow/data"
cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/"
chmod 1777 "$base/tmp"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$base/etc/passwd"
printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$base/etc/group"

CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/newsflow/newsflow" ./cmd/newsflow
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/newsflow/nats-server" github.com/nats-io/nats-server/v2
cp deploy/nats.conf deploy/feeds.txt "$out/newsflow/"
docker build -q -f "$here/newsflow.Dockerfile" --target nats -t "newsflow-nats:$tag" "$out/newsflow"
docker build -q -f "$here/newsflow.Dockerfile" --target newsflow -t "newsflow:$tag" "$out/newsflow"

# PostgreSQL: the installed server's binaries, the libraries they load, a
# shell for the entrypoint, and a postgres user (999, as in the official image).
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
pgdir="$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -1)"
pgdir="${pgdir%/}"
pgver="${pgdir##*/}"
root="$out/postgres/rootfs"
if [ ! -f "$root/.complete-$pgver" ]; then
  rm -rf "$root" && mkdir -p "$root/etc" "$root/tmp" "$root/usr/local/bin" "$root/var/run/postgresql" \
    "$root/var/lib/postgresql/data" "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  cp -a "$pgdir" "$root/usr/lib/postgresql/"
  ln -s "$pgver" "$root/usr/lib/postgresql/current"
  cp -a "/usr/share/postgresql/$pgver" "$root/usr/share/postgresql/"
  mkdir -p "$root/usr/share" && cp -a /usr/share/zoneinfo "$root/usr/share/"
  mkdir -p "$root/bin" && cp /bin/dash "$root/bin/sh"
  for f in "$pgdir"/bin/* "$pgdir"/lib/*.so /bin/dash; do ldd "$f" 2>/dev/null || true; done |
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
    while read -r lib; do cp -L --parents "$lib" "$root/"; done
  chmod 1777 "$root/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'postgres:x:999:' >"$root/etc/group"
  chmod 700 "$root/var/lib/postgresql/data"
  touch "$root/.complete-$pgver"
fi
cp "$here/postgres-entrypoint" "$root/usr/local/bin/postgres-entrypoint"
docker build -q -f "$here/postgres.Dockerfile" -t "newsflow-postgres:$tag" "$out/postgres"
docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^newsflow(-nats|-postgres)?:$tag "
