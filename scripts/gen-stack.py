#!/usr/bin/env python3
"""Write a large compose file for benchmarks: N services with the attributes a
real stack uses (environment, healthcheck, depends_on, networks, volumes,
labels, resource limits, anchors). Usage: gen-stack.py N OUT_DIR"""
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
lines = [
    "x-defaults: &defaults",
    "  restart: unless-stopped",
    "  logging:",
    "    driver: json-file",
    "    options: {max-size: 10m, max-file: \"3\"}",
    "services:",
]
for i in range(n):
    lines += [
        f"  svc{i}:",
        "    <<: *defaults",
        f"    image: \"busybox:${{TAG:-1.36}}\"",
        "    command: [\"sh\", \"-c\", \"sleep 3600\"]",
        "    environment:",
        f"      SERVICE_ID: \"{i}\"",
        "      LOG_LEVEL: ${LOG_LEVEL:-info}",
        "    labels:",
        f"      com.example.index: \"{i}\"",
        f"    networks: [net{i % 10}]",
        f"    volumes: [\"data{i % 20}:/data\", \"./conf:/conf:ro\"]",
        f"    ports: [\"{20000 + i}:80\"]",
        "    healthcheck:",
        "      test: [\"CMD\", \"true\"]",
        "      interval: 1s",
        "      timeout: 500ms",
        "      retries: 3",
        "    deploy:",
        "      resources:",
        "        limits: {cpus: \"0.25\", memory: 64m}",
    ]
    if i > 0:
        lines += ["    depends_on:", f"      svc{i - 1}:", "        condition: service_started"]
lines.append("networks:")
lines += [f"  net{k}: {{}}" for k in range(10)]
lines.append("volumes:")
lines += [f"  data{k}: {{}}" for k in range(20)]
with open(os.path.join(out, "compose.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")
