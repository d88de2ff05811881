#!/usr/bin/env python3
"""The `--health-probe engine` floor: the least a client must spend to bring a
stack up when it waits for the engine's own health verdict.

A deliberately minimal, event-driven Engine API client (no Compose, no
aistack code): it reads the normalized model from `docker compose config
--format json` (file given with -f), creates networks and volumes, creates
each container, starts a service the moment its dependencies meet their
condition (told by the engine's event stream: `start`, `health_status:
healthy`, `die` with exit code 0), and returns once every service is running,
healthy, or (a job) exited 0: what `up --wait` promises. It supports just the
attributes the benchmark stacks use (image, command, environment, healthcheck,
networks, named volumes, ports, depends_on); anything else is refused.

Prints the seconds from its first engine call to the stack being ready.

Usage: floor-client.py up   -p PROJECT -f compose.yaml
       floor-client.py down -p PROJECT
Used by scripts/bench-runtime.sh; not a product path.
"""
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

SOCK = "/var/run/docker.sock"
API = "/v1.41"
LABEL = "io.aistack.floor"


class Conn(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("localhost", timeout=120)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(120)
        self.sock.connect(SOCK)


def call(method, path, body=None, ok=(200, 201, 204, 304)):
    c = Conn()
    c.request(method, API + path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status not in ok:
        raise SystemExit(f"floor-client: {method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None


def nanos(d):
    units = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    return int(sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ns|us|ms|s|m|h)", d)))


SUPPORTED = {"image", "command", "environment", "healthcheck", "networks", "volumes",
             "ports", "depends_on", "entrypoint", "restart"}


def container_body(project, name, svc, nets, vols):
    extra = set(svc) - SUPPORTED
    if extra:
        raise SystemExit(f"floor-client: service {name}: unsupported {sorted(extra)}")
    labels = {LABEL: project, "com.docker.compose.project": project,
              "com.docker.compose.service": name}
    body = {"Image": svc["image"], "Labels": labels,
            "Env": [f"{k}={v}" for k, v in (svc.get("environment") or {}).items()]}
    if svc.get("command"):
        body["Cmd"] = svc["command"]
    hc = svc.get("healthcheck")
    if hc:
        body["Healthcheck"] = {"Test": hc["test"], "Interval": nanos(hc.get("interval", "30s")),
                               "Timeout": nanos(hc.get("timeout", "30s")),
                               "Retries": hc.get("retries", 3)}
    policy = {"no": "", "always": "always", "unless-stopped": "unless-stopped",
              "on-failure": "on-failure"}[svc.get("restart", "no")]
    host = {"Mounts": [], "PortBindings": {}, "RestartPolicy": {"Name": policy}}
    for v in svc.get("volumes") or []:
        host["Mounts"].append({"Type": "volume", "Source": vols[v["source"]], "Target": v["target"]})
    exposed = {}
    for p in svc.get("ports") or []:
        key = f"{p['target']}/{p.get('protocol', 'tcp')}"
        exposed[key] = {}
        host["PortBindings"].setdefault(key, []).append(
            {"HostIp": p.get("host_ip", ""), "HostPort": str(p.get("published", ""))})
    body["ExposedPorts"] = exposed
    svc_nets = list((svc.get("networks") or {"default": None}).keys())
    first = nets[svc_nets[0]]
    host["NetworkMode"] = first
    body["HostConfig"] = host
    body["NetworkingConfig"] = {"EndpointsConfig": {first: {"Aliases": [name]}}}
    return body, [nets[n] for n in svc_nets[1:]]


def up(project, file):
    model = json.loads(subprocess.run(
        ["docker", "compose", "-p", project, "-f", file, "config", "--format", "json"],
        check=True, capture_output=True, text=True, timeout=120).stdout)
    services = model["services"]
    # The floor is the engine work: the clock starts after the model is read.
    t0 = time.perf_counter()
    nets, vols = {}, {}
    for key, n in (model.get("networks") or {}).items():
        nets[key] = n["name"]
        call("POST", "/networks/create", {"Name": n["name"], "CheckDuplicate": True,
                                          "Internal": bool(n.get("internal")),
                                          "Labels": {LABEL: project}})
    for key, v in (model.get("volumes") or {}).items():
        vols[key] = v["name"]
        call("POST", "/volumes/create", {"Name": v["name"], "Labels": {LABEL: project}})

    # Subscribe before the first start so no transition is missed.
    state = {n: set() for n in services}  # reached: started, healthy, completed
    cond = threading.Condition()
    ev_conn = Conn()
    filters = json.dumps({"label": [f"{LABEL}={project}"], "type": ["container"]})
    ev_conn.request("GET", f"{API}/events?since={time.time():.9f}&filters={urllib.parse.quote(filters)}")
    ev_resp = ev_conn.getresponse()

    def events():
        while True:
            line = ev_resp.readline()
            if not line:
                return
            e = json.loads(line)
            attrs = e.get("Actor", {}).get("Attributes", {})
            svc, action = attrs.get("com.docker.compose.service"), e.get("Action", "")
            with cond:
                if action == "start":
                    state[svc].add("started")
                elif action == "health_status: healthy":
                    state[svc].add("healthy")
                elif action == "die":
                    state[svc].add("completed" if attrs.get("exitCode") == "0" else "failed")
                cond.notify_all()

    threading.Thread(target=events, daemon=True).start()

    for name, svc in services.items():
        body, more = container_body(project, name, svc, nets, vols)
        cname = f"{project}-{name}-1"
        call("POST", f"/containers/create?name={cname}", body)
        for n in more:
            call("POST", f"/networks/{n}/connect", {"Container": cname,
                                                    "EndpointConfig": {"Aliases": [name]}})

    want = {"service_started": "started", "service_healthy": "healthy",
            "service_completed_successfully": "completed"}

    def starter(name):
        deps = services[name].get("depends_on") or {}
        with cond:
            cond.wait_for(lambda: all(want[d["condition"]] in state[k] or "failed" in state[k]
                                      for k, d in deps.items()))
            failed = [k for k in deps if "failed" in state[k]]
        if failed:
            raise SystemExit(f"floor-client: {name}: dependency failed: {failed}")
        call("POST", f"/containers/{project}-{name}-1/start")

    threads = [threading.Thread(target=starter, args=(n,)) for n in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # `--wait`: running, healthy, or a job that exited 0.
    def ready(name):
        s = state[name]
        if "failed" in s:
            raise SystemExit(f"floor-client: {name} failed")
        if "completed" in s:
            return True
        return "healthy" in s if services[name].get("healthcheck") else "started" in s

    with cond:
        cond.wait_for(lambda: all(ready(n) for n in services), timeout=600)
    print(f"{time.perf_counter() - t0:.3f}")


def down(project):
    filters = urllib.parse.quote(json.dumps({"label": [f"{LABEL}={project}"]}))
    for c in call("GET", f"/containers/json?all=1&filters={filters}"):
        call("DELETE", f"/containers/{c['Id']}?force=1&v=1", ok=(204, 404))
    for n in call("GET", f"/networks?filters={filters}"):
        call("DELETE", f"/networks/{n['Id']}", ok=(204, 404))
    for v in call("GET", f"/volumes?filters={filters}")["Volumes"] or []:
        call("DELETE", f"/volumes/{v['Name']}", ok=(204, 404))


def main():
    args = sys.argv[1:]
    op = args.pop(0)
    opts = dict(zip(args[::2], args[1::2]))
    if op == "up":
        up(opts["-p"], opts["-f"])
    elif op == "down":
        down(opts["-p"])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
