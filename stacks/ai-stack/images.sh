#!/usr/bin/env bash
# stacks/ai-stack/images.sh — build the ai-stack's images offline, once.
#
# No registry is needed. One Debian root filesystem holding every package the
# stack uses is made on the host with mmdebstrap from the host's own Debian
# mirror, loaded with `docker import` as aistack-real/base, and each service
# image is derived from it by adding metadata only (USER, CMD, HEALTHCHECK,
# ...: `docker commit --change` of a never-started container; nothing runs).
# All images share the one base layer. Recipe and measurements:
# ../shared/design/real-images.md, "recipe A".
#
#   aistack-real/nginx     nginx-light as www-data, port 8080
#   aistack-real/redis     redis-server as redis
#   aistack-real/postgres  postgresql-15 as postgres, trimmed (no LLVM JIT, no
#                          perl), PGDATA pre-initialised; its entrypoint runs
#                          initdb only when it is given an empty data directory
#   aistack-real/python    python3 with FastAPI, uvicorn, httpx, redis,
#                          psycopg2, prometheus-client (Debian packages) as
#                          app (uid 10001), for the gateway and the mock LLM
#   aistack-real/prometheus  Prometheus 2.42 (Debian's) as prometheus, data in
#                          /prometheus
#   aistack-real/litellm   only with --litellm: the LiteLLM proxy, installed
#                          with no network from PyPI wheels fetched on the host
#
# Every image is tagged aistack-real/<name>:<hash>, where <hash> covers the
# recipe's inputs (packages, options, hook, mirror lines, image metadata,
# $AISTACK_REAL_EPOCH), and :latest, which compose.yaml uses. When all tags
# exist the script only checks them (one `docker image inspect`) and exits.
# Rebuilds are not bit-reproducible (timestamps, initdb's system id), which is
# why the inputs are hashed and not the outputs.
#
# Usage: images.sh [--litellm] [--check] [--force] [--list] [--prune]
#   --litellm  also build aistack-real/litellm (downloads ~170 MB of wheels)
#   --check    exit 0 if the images are present and current, 1 if not; build nothing
#   --force    rebuild even if the tags exist
#   --list     print the image references this recipe produces
#   --prune    also remove older aistack-real/<name>:<hash> tags of the images
#              asked for (rebuilds leave them behind)
# Environment:
#   AISTACK_REAL_EPOCH   any string; change it to rebuild (e.g. $(date +%G-W%V)
#                        weekly, to pick up Debian security updates)
#   AISTACK_REAL_MIRROR  a Debian mirror URL instead of the host's apt sources
#   AISTACK_REAL_CACHE   host cache for .deb files and wheels
#                        (default ${XDG_CACHE_HOME:-~/.cache}/aistack-real)
#   AISTACK_REAL_LOCK    lock file serialising builds (default /tmp/aistack-real-images.lock)
#   LITELLM_SPEC         pip requirement for --litellm (default below)
set -euo pipefail

readonly REPO=aistack-real
readonly SUITE=bookworm
# Bump when the build logic changes in a way the hashed strings below do not show.
readonly RECIPE_VERSION=2
readonly SERVICE_IMAGES=(nginx redis postgres python prometheus)
# The version the feasibility study installed and ran offline.
readonly LITELLM_SPEC=${LITELLM_SPEC:-litellm[proxy]==1.106.2}
readonly CACHE=${AISTACK_REAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aistack-real}
readonly LOCK=${AISTACK_REAL_LOCK:-/tmp/aistack-real-images.lock}
readonly LABEL=io.aistack.real

log() { printf 'images: %s\n' "$*" >&2; }
die() {
	printf 'images: error: %s\n' "$*" >&2
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# Every docker call has a deadline: a wedged daemon must fail the run, not hang CI.
# -k: `docker run` passes SIGTERM on to the container and keeps waiting.
dk() {
	local limit=$1
	shift
	local rc=0
	timeout -k 10 "$limit" docker "$@" || rc=$?
	if [[ $rc == 124 ]]; then
		log "docker $1 did not finish within ${limit}s"
	fi
	return "$rc"
}

# Run a docker command quietly; show its output only when it fails.
dk_quiet() {
	local out rc=0
	out=$(dk "$@" 2>&1) || rc=$?
	if [[ $rc != 0 ]]; then
		printf '%s\n' "$out" >&2
		return "$rc"
	fi
}

# ---------------------------------------------------------------------------
# Recipe inputs. Everything that shapes an image is a string here, so that the
# content hash sees it.

readonly PACKAGES=(
	nginx-light curl
	redis-server
	postgresql-15
	python3-fastapi python3-uvicorn python3-httpx python3-redis python3-psycopg2
	python3-prometheus-client
	prometheus
)

readonly MMDEBSTRAP_OPTS=(
	--variant=essential
	# Plain mmdebstrap picks `usrmerge` on bookworm, which pulls in perl.
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
	# mmdebstrap empties /run at the end, which would delete /run/postgresql.
	--skip=cleanup/run
	# Keep the downloaded essential .debs until the cache hook copies them out.
	--skip=essential/unlink
	--aptopt='Acquire::Retries "3"'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/lintian/*'
)

# `docker import --change` lines for the base (it rejects STOPSIGNAL; the
# derived images set that).
readonly IMPORT_CHANGES=(
	'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	'ENV LANG=C.UTF-8'
	"LABEL $LABEL=base"
	'CMD ["/bin/sh"]'
)

# The customize hook: runs on the host (as root, or in mmdebstrap's user
# namespace) with the new root filesystem in $1.
read -r -d '' HOOK <<'HOOK_EOF' || true
set -eu
root=$1
in_root() { chroot "$root" "$@"; }

# The application user of the python images (compose.yaml repeats the uid).
in_root groupadd --gid 10001 app
in_root useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home \
	--shell /usr/sbin/nologin app
mkdir -p "$root/app"

# nginx: an unprivileged default config (compose.yaml mounts the stack's own);
# Debian's listens on port 80 and writes /run/nginx.pid, both root-only.
rm -f "$root/etc/nginx/sites-enabled/default"
cat >"$root/etc/nginx/nginx.conf" <<'EOF'
# aistack-real/nginx default: unprivileged, read-only root friendly.
worker_processes 1;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
events { worker_connections 256; }
http {
    access_log /dev/stdout;
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    server {
        listen 8080;
        location = /nginx-health { default_type text/plain; return 200 "ok\n"; }
    }
}
EOF

# redis: its data directory, owned by redis so that a new volume mounted there
# inherits the owner (Docker copies the image's directory into an empty volume).
mkdir -p "$root/data"
in_root chown redis:redis /data

# postgres: trim what a container never uses. The JIT's LLVM (105 MB) and z3
# (23 MB); perl and locales, needed only by Debian's pg_wrapper/pg_ctlcluster
# scripts (the image calls the binaries directly, C.UTF-8 is built into libc).
trim=""
for p in libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36 locales; do
	# shellcheck disable=SC2016  # dpkg-query's format, not a shell expansion
	if in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		trim="$trim $p"
	fi
done
if [ -n "$trim" ]; then
	# shellcheck disable=SC2086  # one word per package
	in_root dpkg --purge --force-depends $trim >/dev/null
fi
rm -rf "$root"/usr/lib/postgresql/15/lib/llvmjit* "$root/usr/lib/postgresql/15/lib/bitcode"
# Debian's postinst made a "15/main" cluster; this image keeps its data in PGDATA.
rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15"
mkdir -p "$root/run/postgresql"
in_root chown postgres:postgres /run/postgresql

cat >"$root/usr/local/bin/aistack-postgres-entrypoint" <<'EOF'
#!/bin/sh
# aistack-real/postgres entrypoint. PGDATA comes pre-initialised in the image
# (a new named volume receives a copy of it); initdb runs here only when the
# data directory is empty, e.g. a bind mount or a volume created elsewhere.
# On the first start with a data directory, the role POSTGRES_USER (password
# POSTGRES_PASSWORD, superuser, as in the official image) and the database
# POSTGRES_DB are created in single-user mode, before the server listens, so
# the health check (pg_isready) passes only once they exist.
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
marker="$PGDATA/aistack-bootstrapped"

init_cluster() {
	initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	# initdb's pg_hba.conf only admits 127.0.0.1 and ::1 over TCP.
	echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
	cat >>"$PGDATA/postgresql.conf" <<'CONF'
# aistack-real
listen_addresses = '*'
jit = off  # the JIT's LLVM libraries are not in this image
# /tmp is writable with a read-only root (tmpfs) and without one; a tmpfs on
# /run/postgresql would be root-owned, and Debian's default socket lives there.
unix_socket_directories = '/tmp'
CONF
}

ident() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

bootstrap() {
	user="${POSTGRES_USER:-postgres}"
	db="${POSTGRES_DB:-$user}"
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres: POSTGRES_PASSWORD is not set: refusing to create role $user without a password" >&2
		exit 1
	fi
	{
		if [ "$user" = postgres ]; then
			echo "ALTER ROLE postgres PASSWORD $(literal "$POSTGRES_PASSWORD");"
		else
			echo "CREATE ROLE $(ident "$user") LOGIN SUPERUSER PASSWORD $(literal "$POSTGRES_PASSWORD");"
		fi
		if [ "$db" != postgres ]; then
			echo "CREATE DATABASE $(ident "$db") OWNER $(ident "$user");"
		fi
	} >"/tmp/bootstrap.sql"
	# Single-user mode reports SQL errors on stdout and still exits 0.
	out=$(postgres --single -D "$PGDATA" -c jit=off postgres <"/tmp/bootstrap.sql" 2>&1) || {
		printf '%s\n' "$out" >&2
		exit 1
	}
	rm -f /tmp/bootstrap.sql
	if printf '%s\n' "$out" | grep -q 'ERROR:'; then
		printf 'postgres: bootstrap failed:\n%s\n' "$out" >&2
		exit 1
	fi
	touch "$marker"
	echo "postgres: created role $user and database $db" >&2
}

if [ "${1:-}" = postgres ] || [ "${1:-}" = --init-only ]; then
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		echo "postgres: $PGDATA has no cluster: running initdb" >&2
		init_cluster
	fi
	if [ "$1" = --init-only ]; then
		exit 0
	fi
	if [ ! -e "$marker" ]; then
		bootstrap
	fi
fi
exec "$@"
EOF
chmod 0755 "$root/usr/local/bin/aistack-postgres-entrypoint"
mkdir -p "$root/var/lib/postgresql/data"
in_root chown postgres:postgres /var/lib/postgresql/data
chmod 0700 "$root/var/lib/postgresql/data"
in_root runuser -u postgres -- env PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin \
	PGDATA=/var/lib/postgresql/data /usr/local/bin/aistack-postgres-entrypoint --init-only

# prometheus: its data directory, owned by prometheus so that a new volume
# mounted there inherits the owner; Debian's own lives under /var/lib.
mkdir -p "$root/prometheus"
in_root chown prometheus:prometheus /prometheus

# moment-timezone (a dependency of Prometheus's classic UI) ships 212 MB of
# per-zone data files next to the bundle the UI loads, which has the data.
rm -rf "$root/usr/share/javascript/moment-timezone/data"

# Leftovers that only make the image bigger or leak the build host.
rm -rf "$root"/var/log/apt "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log \
	"$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"
HOOK_EOF

# Metadata of each derived image; $1 is the base image reference.
dockerfile() {
	local base=$1 name=$2
	printf 'FROM %s\nLABEL %s=%s\n' "$base" "$LABEL" "$name"
	case $name in
	nginx)
		cat <<-'EOF'
			USER www-data
			EXPOSE 8080
			STOPSIGNAL SIGQUIT
			HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD curl -fsS -o /dev/null http://127.0.0.1:8080/nginx-health
			CMD ["nginx", "-e", "stderr", "-g", "daemon off;"]
		EOF
		;;
	redis)
		cat <<-'EOF'
			USER redis
			WORKDIR /data
			EXPOSE 6379
			HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD redis-cli ping | grep -q PONG
			CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
		EOF
		;;
	postgres)
		cat <<-'EOF'
			USER postgres
			ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data PGHOST=/tmp
			WORKDIR /var/lib/postgresql
			EXPOSE 5432
			STOPSIGNAL SIGINT
			HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD pg_isready -q -h 127.0.0.1
			ENTRYPOINT ["aistack-postgres-entrypoint"]
			CMD ["postgres"]
		EOF
		;;
	python)
		cat <<-'EOF'
			USER app
			WORKDIR /app
			ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
			EXPOSE 8000
			CMD ["python3"]
		EOF
		;;
	prometheus)
		cat <<-'EOF'
			USER prometheus
			WORKDIR /prometheus
			EXPOSE 9090
			HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD curl -fsS -o /dev/null http://127.0.0.1:9090/-/ready
			ENTRYPOINT ["prometheus"]
			CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
		EOF
		;;
	*) die "no recipe for image $name" ;;
	esac
}

# ---------------------------------------------------------------------------
# Mirror: the host's Debian sources (deb822 or one-line), as mmdebstrap lines.

mirror_lines() {
	if [[ -n ${AISTACK_REAL_MIRROR:-} ]]; then
		printf 'deb %s %s main\n' "$AISTACK_REAL_MIRROR" "$SUITE"
		return
	fi
	local f=/etc/apt/sources.list.d/debian.sources
	if [[ -r $f ]]; then
		awk -v suite="$SUITE" '
			function flush(   n, s, i, u) {
				if (types ~ /(^| )deb( |$)/ && uris != "" && enabled != "no") {
					split(uris, u, " ")
					n = split(suites, s, " ")
					for (i = 1; i <= n; i++)
						if (s[i] == suite || s[i] == suite "-updates" || s[i] == suite "-security")
							print "deb " u[1] " " s[i] " " (comps == "" ? "main" : comps)
				}
				types = uris = suites = comps = enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			{ key = tolower($1); val = $0; sub(/^[^:]*:[ \t]*/, "", val) }
			key == "types:" { types = val }
			key == "uris:" { uris = val }
			key == "suites:" { suites = val }
			key == "components:" { comps = val }
			key == "enabled:" { enabled = tolower(val) }
			END { flush() }
		' "$f"
	fi
	if [[ -r /etc/apt/sources.list ]]; then
		awk -v suite="$SUITE" '$1 == "deb" && $0 !~ /\[/ && ($3 == suite || $3 == suite "-updates" || $3 == suite "-security")' \
			/etc/apt/sources.list
	fi
}

# ---------------------------------------------------------------------------
# Hashes and references.

sha() { sha256sum | cut -c1-16; }

MIRRORS=$(mirror_lines | awk '!seen[$0]++')
if [[ -z $MIRRORS ]]; then
	MIRRORS="deb http://deb.debian.org/debian $SUITE main"
	NO_HOST_MIRROR=1
fi
BASE_HASH=$(
	printf '%s\n' "recipe=$RECIPE_VERSION" "suite=$SUITE" "epoch=${AISTACK_REAL_EPOCH:-}" \
		"$MIRRORS" "${PACKAGES[@]}" "${MMDEBSTRAP_OPTS[@]}" "${IMPORT_CHANGES[@]}" "$HOOK" | sha
)
readonly BASE_REF=$REPO/base:$BASE_HASH

image_hash() {
	case $1 in
	base) echo "$BASE_HASH" ;;
	litellm) printf '%s\n' "$(dockerfile "$BASE_REF" python | sha)" "$LITELLM_SPEC" "$(litellm_changes)" | sha ;;
	*) dockerfile "$BASE_REF" "$1" | sha ;;
	esac
}

litellm_changes() {
	printf '%s\n' \
		"LABEL $LABEL=litellm" \
		'ENV PATH=/opt/litellm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'ENV LITELLM_LOCAL_MODEL_COST_MAP=True' \
		'USER app' \
		'WORKDIR /app' \
		'EXPOSE 4000' \
		'ENTRYPOINT ["litellm"]' \
		'CMD ["--port", "4000"]'
}

WANT=(base "${SERVICE_IMAGES[@]}")

refs() {
	local name
	for name in "${WANT[@]}"; do
		printf '%s/%s:%s\n' "$REPO" "$name" "$(image_hash "$name")"
	done
}

# True when every wanted image exists under its hash tag and :latest points at it.
all_present() {
	local -a names=() hashed=() latest=()
	local name ids
	for name in "${WANT[@]}"; do
		names+=("$name")
		hashed+=("$REPO/$name:$(image_hash "$name")")
		latest+=("$REPO/$name:latest")
	done
	ids=$(dk 20 image inspect --format '{{.Id}}' "${hashed[@]}" 2>/dev/null) || return 1
	local -a want_ids
	mapfile -t want_ids <<<"$ids"
	local have
	have=$(dk 20 image inspect --format '{{.Id}}' "${latest[@]}" 2>/dev/null) || have=""
	local -a have_ids
	mapfile -t have_ids <<<"$have"
	local i
	for i in "${!names[@]}"; do
		if [[ ${have_ids[$i]:-} != "${want_ids[$i]}" ]]; then
			dk_quiet 20 tag "${hashed[$i]}" "${latest[$i]}"
			log "retagged ${latest[$i]} -> ${hashed[$i]}"
		fi
	done
}

# ---------------------------------------------------------------------------
# Building.

WORK=""
cleanup() {
	if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

build_base() {
	local t0 tar debs
	t0=$(now)
	command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	[[ -d /usr/share/mmdebstrap/hooks/merged-usr ]] || die "mmdebstrap's merged-usr hook directory is missing"
	if [[ -n ${NO_HOST_MIRROR:-} ]]; then
		log "no $SUITE entry in the host's apt sources: using deb.debian.org (set AISTACK_REAL_MIRROR to choose)"
	fi
	debs=$CACHE/debs
	mkdir -p "$debs"
	tar=$WORK/base.tar
	printf '%s\n' "$HOOK" >"$WORK/hook.sh"
	local -a mirrors
	mapfile -t mirrors <<<"$MIRRORS"
	log "building the root filesystem with mmdebstrap (about a minute; log: $WORK/mmdebstrap.log)"
	log "  mirror: ${mirrors[*]}"
	# shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell
	if ! mmdebstrap "${MMDEBSTRAP_OPTS[@]}" \
		--include="$(
			IFS=,
			echo "${PACKAGES[*]}"
		)" \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
		--setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
		--customize-hook="sync-out /var/cache/apt/archives '$debs'" \
		--customize-hook="sh '$WORK/hook.sh' \"\$1\"" \
		"$SUITE" "$tar" "${mirrors[@]}" >"$WORK/mmdebstrap.log" 2>&1; then
		tail -n 40 "$WORK/mmdebstrap.log" >&2
		die "mmdebstrap failed (last lines above)"
	fi
	# Superseded package versions pile up: drop old files (one still needed is
	# simply downloaded again).
	find "$debs" -name '*.deb' -mtime +30 -delete 2>/dev/null || true
	log "root filesystem: $(du -m "$tar" | cut -f1) MB in $(since "$t0")"
	t0=$(now)
	local -a changes=()
	local c
	for c in "${IMPORT_CHANGES[@]}"; do changes+=(--change "$c"); done
	dk_quiet 300 import "${changes[@]}" --message "aistack-real base $BASE_HASH" "$tar" "$BASE_REF"
	rm -f "$tar"
	log "imported $BASE_REF in $(since "$t0")"
}

build_derived() {
	local name=$1 ref t0 line cid
	ref=$REPO/$name:$(image_hash "$name")
	t0=$(now)
	# The image only adds metadata to the base layer. The legacy builder
	# (this docker CLI has no buildx) spends seconds per instruction on an
	# intermediate container; `docker commit --change` applies them all to one
	# created (never started) container in a single step. It rejects
	# STOPSIGNAL, so that one, if any, is a one-line build on top.
	local -a changes=()
	local stopsignal=""
	while IFS= read -r line; do
		case $line in
		FROM\ * | "") ;;
		STOPSIGNAL\ *) stopsignal=$line ;;
		*) changes+=(--change "$line") ;;
		esac
	done < <(dockerfile "$BASE_REF" "$name")
	cid=$(dk 60 create --network none --label "$LABEL=build" "$BASE_REF") || die "cannot create a container of $BASE_REF"
	local rc=0 target=$ref
	[[ -z $stopsignal ]] || target=$REPO/$name:build-$$
	dk_quiet 120 commit "${changes[@]}" "$cid" "$target" || rc=$?
	dk_quiet 60 rm -f "$cid" || true
	((rc == 0)) || die "docker commit of $name failed"
	if [[ -n $stopsignal ]]; then
		printf 'FROM %s\n%s\n' "$target" "$stopsignal" |
			DOCKER_BUILDKIT=0 dk_quiet 300 build --network none --force-rm -q -t "$ref" - || rc=$?
		dk_quiet 60 rmi "$target" || true
		((rc == 0)) || die "docker build of $name failed"
	fi
	log "built $ref in $(since "$t0")"
}

# LiteLLM from PyPI wheels: fetched on the host, installed with no network.
build_litellm() {
	local ref t0 wheels pip_whl
	ref=$REPO/litellm:$(image_hash litellm)
	t0=$(now)
	wheels=$CACHE/wheels/$(printf '%s\n' "$LITELLM_SPEC" | sha)
	mkdir -p "$wheels"
	# pip's environment markers must be evaluated by the same interpreter as the
	# image's (Debian's 3.11.2): `pip download --python-version` compares
	# python_full_version with the host's python and picks wrong wheels.
	[[ -x /usr/bin/python3 ]] || die "--litellm needs the host's Debian /usr/bin/python3"
	local host_py image_py
	host_py=$(/usr/bin/python3 -c 'import sys; print(sys.version.split()[0])')
	image_py=$(dk 60 run --rm --network none --label "$LABEL=probe" "$REPO/python:$(image_hash python)" \
		python3 -c 'import sys; print(sys.version.split()[0])')
	if [[ $host_py != "$image_py" ]]; then
		log "warning: host /usr/bin/python3 is $host_py, the image has $image_py: wheel selection may differ"
	fi
	pip_whl=$(find "$wheels" -maxdepth 1 -name 'pip-*.whl' | head -n1)
	if [[ -z $pip_whl ]]; then
		# The image has no pip: its wheel (run as `python pip-X.whl/pip`) serves
		# both the download here and the install in the container.
		log "fetching pip's wheel"
		local -a boot=()
		if /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
			boot=(/usr/bin/python3 -m pip)
		elif command -v pip3 >/dev/null; then
			boot=(pip3)
		else
			die "--litellm needs pip on the host once (apt-get install python3-pip), to fetch pip's wheel"
		fi
		"${boot[@]}" download --no-deps --only-binary=:all: -d "$wheels" pip >/dev/null
		pip_whl=$(find "$wheels" -maxdepth 1 -name 'pip-*.whl' | head -n1)
		[[ -n $pip_whl ]] || die "pip download did not produce pip's wheel"
	fi
	if [[ ! -e $wheels/.complete ]]; then
		log "downloading $LITELLM_SPEC and its dependencies (about 170 MB)"
		/usr/bin/python3 "$pip_whl/pip" download --disable-pip-version-check \
			--only-binary=:all: -d "$wheels" "$LITELLM_SPEC" >"$WORK/pip-download.log" 2>&1 || {
			tail -n 30 "$WORK/pip-download.log" >&2
			die "pip download failed"
		}
		touch "$wheels/.complete"
	fi
	log "installing LiteLLM into a venv with no network (a minute or two)"
	local cname="aistack-real-litellm-build-$$"
	dk_quiet 60 create --name "$cname" --network none --user 0 \
		--label "$LABEL=litellm-build" -v "$wheels:/wheels:ro" \
		"$REPO/python:$(image_hash python)" sh -c "
			set -e
			python3 -m venv --without-pip /opt/litellm
			/opt/litellm/bin/python /wheels/$(basename "$pip_whl")/pip install --no-cache-dir \
				--disable-pip-version-check --no-index --find-links /wheels '$LITELLM_SPEC'
			/opt/litellm/bin/python -c 'import litellm.proxy.proxy_server'
		"
	local rc=0
	dk 1200 start -a "$cname" >"$WORK/litellm-install.log" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		tail -n 30 "$WORK/litellm-install.log" >&2
		dk_quiet 60 rm -f "$cname" || true
		die "installing LiteLLM failed"
	fi
	local -a changes=()
	local c
	while IFS= read -r c; do changes+=(--change "$c"); done < <(litellm_changes)
	rc=0
	dk_quiet 900 commit "${changes[@]}" "$cname" "$ref" || rc=$?
	dk_quiet 60 rm -f "$cname" || true
	[[ $rc == 0 ]] || die "docker commit of the LiteLLM image failed"
	log "built $ref in $(since "$t0")"
}

# Remove this recipe's older hash tags of the images this run was asked for
# (only those: another image's old tag may still be in use elsewhere).
prune_old() {
	local keep old name
	keep=$(refs)
	while IFS= read -r old; do
		[[ -z $old ]] && continue
		name=${old#"$REPO"/}
		name=${name%%:*}
		if [[ " ${WANT[*]} " == *" $name "* ]] && ! grep -qxF "$old" <<<"$keep"; then
			log "removing old tag $old"
			dk_quiet 60 rmi "$old" || true
		fi
	done < <(dk 20 images --filter "label=$LABEL" --format '{{.Repository}}:{{.Tag}}' | grep "^$REPO/" | grep -v -e ':latest$' -e ':<none>$')
}

# ---------------------------------------------------------------------------

main() {
	local check=0 force=0 list=0 prune=0
	while (($#)); do
		case $1 in
		--litellm) WANT+=(litellm) ;;
		--check) check=1 ;;
		--force) force=1 ;;
		--list) list=1 ;;
		--prune) prune=1 ;;
		-h | --help)
			sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
			return 0
			;;
		*) die "unknown option $1 (see --help)" ;;
		esac
		shift
	done
	if ((list)); then
		refs
		return 0
	fi
	command -v docker >/dev/null || die "the docker CLI is not installed"
	local t0
	t0=$(now)
	if ((!force)) && all_present; then
		log "images present (${WANT[*]} at recipe $BASE_HASH), nothing to build ($(since "$t0"))"
		if ((prune)); then prune_old; fi
		return 0
	fi
	if ((check)); then
		log "images missing or outdated: run $0 to build them"
		return 1
	fi
	dk 20 version --format '{{.Server.Version}}' >/dev/null ||
		die "cannot reach the Docker daemon"

	exec 9>"$LOCK"
	if ! flock -n 9; then
		log "another images.sh is building (lock $LOCK): waiting for it"
		flock -w 1800 9 || die "gave up waiting for $LOCK after 30 min"
		if ((!force)) && all_present; then
			log "images built by the other run are present ($(since "$t0"))"
			return 0
		fi
	fi

	WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/aistack-real.XXXXXX")
	if ((force)) || ! dk 20 image inspect "$BASE_REF" >/dev/null 2>&1; then
		build_base
	fi
	# The derived builds are independent and mostly wait on the daemon (the
	# legacy builder commits a container per instruction): run them together.
	local name ref
	local -A pids=()
	for name in "${SERVICE_IMAGES[@]}"; do
		ref=$REPO/$name:$(image_hash "$name")
		if ((force)) || ! dk 20 image inspect "$ref" >/dev/null 2>&1; then
			build_derived "$name" &
			pids[$name]=$!
		fi
	done
	local failed=""
	for name in "${!pids[@]}"; do
		wait "${pids[$name]}" || failed="$failed $name"
	done
	[[ -z $failed ]] || die "building$failed failed"
	if [[ " ${WANT[*]} " == *" litellm "* ]]; then
		ref=$REPO/litellm:$(image_hash litellm)
		if ((force)) || ! dk 20 image inspect "$ref" >/dev/null 2>&1; then
			build_litellm
		fi
	fi
	for name in "${WANT[@]}"; do
		dk_quiet 20 tag "$REPO/$name:$(image_hash "$name")" "$REPO/$name:latest"
	done
	if ((prune)); then prune_old; fi
	log "done in $(since "$t0"): $(refs | tr '\n' ' ')"
}

main "$@"
