#!/usr/bin/env bash
# stacks/ai-stack/smoke.sh — end-to-end check of the ai-stack.
#
# Two ways to run it:
#   aistack -f stacks/ai-stack/compose.yaml --env-file stacks/ai-stack/.env.example \
#       test -- stacks/ai-stack/smoke.sh
#       aistack brings the stack up (--wait, its own project name, free ports),
#       runs this script with AISTACK_PROJECT and AISTACK_PORT_NGINX_8080 set,
#       and tears everything down afterwards: the script only checks.
#   stacks/ai-stack/smoke.sh [--aistack BIN] [--litellm] [--no-build] [--keep]
#       standalone: builds the images if needed (images.sh), brings the stack
#       up under a unique project name with `docker compose` (or with
#       `BIN`, an aistack binary), checks, then always runs `down -v` and
#       checks that nothing of the project is left. --litellm enables the
#       litellm profile and routes the gateway through LiteLLM to the mock.
#
# Checks: a chat through nginx (and LiteLLM, when its container is there) gets the model's reply; a repeat is a cache hit
# in redis; both are recorded in postgres; a streamed reply arrives as several
# SSE events spread over time (nothing buffers them); nginx cannot resolve
# redis or postgres, nor connect to redis's address, while the gateway can;
# prometheus scrapes the gateway over monitoring-net, sees the chats, and
# cannot resolve redis or postgres either; only nginx publishes a port; no
# container runs as root.
# Exits 1 if any check fails (each failure is printed), 2 on a usage error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compose_file=$here/compose.yaml
env_file=${SMOKE_ENV_FILE:-$here/.env.example}

failures=0
passed=0
ok() {
	printf 'ok   - %s\n' "$*"
	passed=$((passed + 1))
}
bad() {
	printf 'FAIL - %s\n' "$*"
	failures=$((failures + 1))
}
note() { printf '# %s\n' "$*"; }
die() {
	printf 'smoke: error: %s\n' "$*" >&2
	exit 2
}

# Every docker call has a deadline: a wedged daemon fails the run instead of hanging it.
dk() { timeout -k 10 30 docker "$@"; }

# ---------------------------------------------------------------------------
# Bringing the stack up and down (standalone mode only).

aistack_bin=""
litellm=0
build=1
keep=0
while (($#)); do
	case $1 in
	--aistack)
		aistack_bin=${2:?--aistack needs the path of an aistack binary}
		shift
		;;
	--litellm) litellm=1 ;;
	--no-build) build=0 ;;
	--keep) keep=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done

standalone=0
if [[ -z ${AISTACK_PROJECT:-} ]]; then
	standalone=1
	project="aismoke-$$-$RANDOM"
else
	project=$AISTACK_PROJECT
fi

# stack SECONDS ARGS...: the compose tool on this project, with a deadline.
stack() {
	local limit=$1
	shift
	if [[ -n $aistack_bin ]]; then
		timeout "$limit" "$aistack_bin" -p "$project" -f "$compose_file" --env-file "$env_file" "$@"
	else
		timeout -k 10 "$limit" docker compose -p "$project" -f "$compose_file" --env-file "$env_file" "$@"
	fi
}

# Always: `down -v` through the tool that brought the stack up, then check
# that nothing of the project is left (docker compose cleans up if it is).
teardown() {
	if ((keep)); then
		note "--keep: stack left up; remove it with: docker compose -p $project down -v"
		return
	fi
	note "tearing down $project"
	local rc=0
	stack 180 down -v --remove-orphans >"$tmp/down.log" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		bad "down -v failed (exit $rc): $(tail -n 5 "$tmp/down.log")"
	fi
	local left
	left=$(
		timeout 30 docker ps -aq --filter "label=com.docker.compose.project=$project"
		timeout 30 docker network ls -q --filter "label=com.docker.compose.project=$project"
		timeout 30 docker volume ls -q --filter "label=com.docker.compose.project=$project"
	) || true
	if [[ -n $left ]]; then
		bad "down -v left resources of $project behind: $(echo "$left" | tr '\n' ' ')"
		timeout 180 docker compose -p "$project" -f "$compose_file" --env-file "$env_file" \
			down -v --remove-orphans >/dev/null 2>&1 || true
	else
		ok "down -v left nothing of $project behind"
	fi
}

tmp=$(mktemp -d)
on_exit() {
	local rc=$?
	if ((standalone)); then teardown; fi
	rm -rf "$tmp"
	printf 'smoke: %d passed, %d failed\n' "$passed" "$failures"
	if ((failures)) && [[ $rc == 0 ]]; then rc=1; fi
	exit "$rc"
}
trap on_exit EXIT

if ((standalone)); then
	[[ -r $env_file ]] || die "no env file $env_file"
	images_opts=()
	if ((litellm)); then
		images_opts=(--litellm)
		# What .env.example describes for routing the gateway through LiteLLM.
		export COMPOSE_PROFILES=litellm LLM_BASE_URL=http://litellm:4000/v1
		LLM_API_KEY=$(sed -n 's/^LITELLM_MASTER_KEY=//p' "$env_file" | tail -n1)
		export LLM_API_KEY
	fi
	if ((build)); then
		"$here/images.sh" "${images_opts[@]}"
	else
		"$here/images.sh" "${images_opts[@]}" --check || die "images missing: run $here/images.sh ${images_opts[*]}"
	fi
	# A free host port: parallel runs and other stacks on the machine never collide.
	export NGINX_PORT=0
	note "bringing up $project with ${aistack_bin:-docker compose}"
	t0=$EPOCHREALTIME
	if ! stack 300 up -d --wait >"$tmp/up.log" 2>&1; then
		cat "$tmp/up.log" >&2
		timeout 60 docker compose -p "$project" -f "$compose_file" --env-file "$env_file" \
			logs --tail 30 >&2 || true
		bad "up --wait failed"
		exit 1
	fi
	note "up --wait took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')"
fi

# ---------------------------------------------------------------------------
# Finding the stack.

container() {
	dk ps -q --filter "label=com.docker.compose.project=$project" \
		--filter "label=com.docker.compose.service=$1" | head -n1
}
declare -A cid
services=(nginx gateway llm redis postgres prometheus)
for s in "${services[@]}"; do
	cid[$s]=$(container "$s")
	[[ -n ${cid[$s]} ]] || {
		bad "no running $s container in project $project"
		exit 1
	}
done
cid[litellm]=$(container litellm)
if ((litellm)) && [[ -z ${cid[litellm]} ]]; then
	bad "no running litellm container in project $project"
	exit 1
fi
backends=(redis postgres prometheus)
if [[ -n ${cid[litellm]} ]]; then
	services+=(litellm)
	backends+=(litellm)
	llm_url=$(dk exec "${cid[gateway]}" printenv LLM_BASE_URL || true)
	if [[ $llm_url == http://litellm:* ]]; then
		ok "the gateway talks to the model through LiteLLM ($llm_url)"
	else
		bad "a litellm container runs but the gateway's LLM_BASE_URL is '$llm_url'"
	fi
fi

port=${AISTACK_PORT_NGINX_8080:-}
if [[ -z $port ]]; then
	port=$(dk port "${cid[nginx]}" 8080/tcp | head -n1 | sed 's/.*://')
fi
[[ $port =~ ^[0-9]+$ ]] || {
	bad "cannot find nginx's published port"
	exit 1
}
base=http://127.0.0.1:$port
note "project $project, nginx at $base"

# ---------------------------------------------------------------------------
# Requests through nginx.

# POST JSON with a deadline; headers and body go to files in $tmp.
post() { curl -sS -m 20 -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' \
	-H 'content-type: application/json' -d "$2" "$base$1"; }
header() { grep -i "^$1:" "$tmp/headers" | head -n1 | cut -d: -f2- | tr -d ' \r'; }

code=$(curl -sS -m 10 -o "$tmp/body" -w '%{http_code}' "$base/health" || true)
if [[ $code == 200 ]] && grep -q '"status":"ok"' "$tmp/body"; then
	ok "GET /health through nginx"
else
	bad "GET /health through nginx: HTTP $code $(cat "$tmp/body" 2>/dev/null)"
fi

code=$(curl -sS -m 10 -o "$tmp/body" -w '%{http_code}' "$base/readyz" || true)
if [[ $code == 200 ]]; then
	ok "GET /readyz: redis, postgres and the LLM ($(dk exec "${cid[gateway]}" printenv LLM_BASE_URL)) answer the gateway"
else
	bad "GET /readyz: HTTP $code $(cat "$tmp/body" 2>/dev/null)"
fi

nonce="$$-$RANDOM"
msg="hello aistack $nonce"
want="echo: $msg"
code=$(post /chat "{\"message\": \"$msg\"}" || true)
if [[ $code == 200 ]] && grep -qF "\"reply\":\"$want\"" "$tmp/body" && [[ $(header x-cache) == MISS ]]; then
	ok "POST /chat returns the model's reply ($want), X-Cache: MISS"
else
	bad "POST /chat: HTTP $code, X-Cache $(header x-cache), body $(cat "$tmp/body" 2>/dev/null)"
fi

code=$(post /chat "{\"message\": \"$msg\"}" || true)
if [[ $code == 200 ]] && grep -qF "\"reply\":\"$want\"" "$tmp/body" &&
	grep -q '"cached":true' "$tmp/body" && [[ $(header x-cache) == HIT ]]; then
	ok "the same chat again is a cache hit (X-Cache: HIT, \"cached\": true)"
else
	bad "repeated POST /chat is not a cache hit: HTTP $code, X-Cache $(header x-cache), body $(cat "$tmp/body" 2>/dev/null)"
fi

# Streaming: timestamp each event as it arrives.
smsg="stream these words to me one by one so that each word arrives as its own event $nonce"
events=0 text="" first="" last=""
while IFS= read -r line; do
	line=${line%$'\r'}
	[[ $line == data:* ]] || continue
	payload=${line#data: }
	if [[ $payload == "[DONE]" ]]; then
		last=$EPOCHREALTIME
		break
	fi
	events=$((events + 1))
	[[ -n $first ]] || first=$EPOCHREALTIME
	text+=$payload
done < <(curl -sS -N -m 30 -H 'content-type: application/json' \
	-d "{\"message\": \"$smsg\"}" "$base/chat/stream" || true)
spread=$(awk -v a="${first:-0}" -v b="${last:-0}" 'BEGIN { printf "%.2f", b - a }')
if ((events >= 3)) && [[ -n $last && $text == "echo: $smsg" ]]; then
	ok "POST /chat/stream: $events SSE events then [DONE], joined they are the reply"
else
	bad "POST /chat/stream: $events events, done=${last:+yes}, text '$text'"
fi
# The mock waits 50 ms between tokens (>= 0.8 s from the first to the last
# here; LiteLLM holds back the first few): a proxy that buffers delivers them
# all at once.
if awk -v s="$spread" 'BEGIN { exit !(s >= 0.15) }'; then
	ok "the SSE events arrive one by one (first to [DONE]: ${spread} s), nothing buffers them"
else
	bad "the SSE events arrived together (first to [DONE]: ${spread} s): something buffers the stream"
fi

# ---------------------------------------------------------------------------
# What the gateway left in redis and postgres.

keys=$(dk exec "${cid[redis]}" redis-cli --scan --pattern 'gateway:chat:*' || true)
hit=0
for k in $keys; do
	if [[ $(dk exec "${cid[redis]}" redis-cli get "$k") == "$want" ]]; then hit=1; fi
done
hits=$(dk exec "${cid[redis]}" redis-cli get gateway:stats:hits || true)
if ((hit)) && [[ ${hits:-0} =~ ^[0-9]+$ ]] && ((hits >= 1)); then
	ok "redis holds the cached reply and counts the hit (gateway:stats:hits=$hits)"
else
	bad "redis: cached reply found=$hit, gateway:stats:hits='$hits'"
fi

pg_user=$(dk exec "${cid[postgres]}" printenv POSTGRES_USER || true)
pg_db=$(dk exec "${cid[postgres]}" printenv POSTGRES_DB || true)
rows=$(dk exec "${cid[postgres]}" psql -U "$pg_user" -d "$pg_db" -Atc \
	"SELECT streamed, cached FROM gateway.chat_log WHERE message IN ('$msg', '$smsg') ORDER BY id" || true)
if [[ $rows == $'f|f\nf|t\nt|f' ]]; then
	ok "postgres recorded the chats (the miss, the hit, the stream) in gateway.chat_log"
else
	bad "postgres gateway.chat_log rows for this run: '$(echo "$rows" | tr '\n' ' ')'"
fi

# ---------------------------------------------------------------------------
# Monitoring: prometheus scrapes the gateway over monitoring-net.

# An instant query's first value, or "" (no result yet, or no answer).
promql() {
	dk exec "${cid[prometheus]}" curl -sS -m 5 -G --data-urlencode "query=$1" \
		http://127.0.0.1:9090/api/v1/query 2>/dev/null |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
# The scrape interval is 5 s: the three chats above show up within two scrapes.
chats="" up=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
	up=$(promql 'up{job="gateway"}')
	chats=$(promql 'sum(gateway_chats_total)')
	[[ $up == 1 && ${chats%.*} =~ ^[0-9]+$ ]] && ((${chats%.*} >= 3)) && break
	sleep 1
done
if [[ $up == 1 ]] && [[ ${chats%.*} =~ ^[0-9]+$ ]] && ((${chats%.*} >= 3)); then
	ok "prometheus scrapes the gateway's /metrics over monitoring-net (up=1, gateway_chats_total=${chats%.*})"
else
	bad "prometheus: up{job=\"gateway\"}='$up', sum(gateway_chats_total)='$chats' after 20 s"
fi
for s in redis postgres; do
	rc=0
	dk exec "${cid[prometheus]}" getent hosts "$s" >/dev/null || rc=$?
	if [[ $rc == 2 ]]; then
		ok "prometheus cannot resolve $s (monitoring-net does not reach ai-net)"
	else
		bad "prometheus resolves $s (getent exit $rc)"
	fi
done

# ---------------------------------------------------------------------------
# Isolation and hardening.

for s in "${backends[@]}"; do
	rc=0
	dk exec "${cid[nginx]}" getent hosts "$s" >/dev/null || rc=$?
	if [[ $rc == 2 ]]; then
		ok "nginx cannot resolve $s (getent exit 2)"
	else
		bad "nginx resolves $s (getent exit $rc): it should be on ai-net only"
	fi
	if dk exec "${cid[gateway]}" getent hosts "$s" >/dev/null; then
		ok "the gateway resolves $s"
	else
		bad "the gateway cannot resolve $s"
	fi
done

redis_ip=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "${cid[redis]}" | awk '{print $1}')
rc=0
dk exec "${cid[nginx]}" curl -s -o /dev/null -m 2 "http://$redis_ip:6379/" || rc=$?
# 7: connection refused or no route, 28: timed out (dropped by Docker's isolation rules).
if [[ $rc == 7 || $rc == 28 ]]; then
	ok "nginx cannot connect to redis's address $redis_ip (curl exit $rc)"
else
	bad "nginx reached redis at $redis_ip:6379 (curl exit $rc)"
fi
rc=0
dk exec "${cid[gateway]}" curl -s -o /dev/null -m 2 "http://redis:6379/" || rc=$?
if [[ $rc != 7 && $rc != 28 && $rc != 6 ]]; then
	ok "the gateway connects to redis:6379 (control)"
else
	bad "the gateway cannot connect to redis:6379 (curl exit $rc)"
fi

published=""
for c in $(dk ps -q --filter "label=com.docker.compose.project=$project"); do
	if [[ $c != "${cid[nginx]}"* && -n $(dk port "$c") ]]; then
		published+="$(dk inspect -f '{{.Name}}' "$c") "
	fi
done
if [[ -z $published ]]; then
	ok "only nginx publishes a port (no database port on the host)"
else
	bad "published ports on: $published"
fi

root=""
for s in "${services[@]}"; do
	uid=$(dk exec "${cid[$s]}" id -u || echo "?")
	[[ $uid != 0 && $uid != "?" ]] || root+="$s "
done
if [[ -z $root ]]; then
	ok "no container runs as root"
else
	bad "running as root (or unknown): $root"
fi

if ((failures)); then
	exit 1
fi
