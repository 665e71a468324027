#!/usr/bin/env bash
# Tuning experiments: one knob at a time against a baseline, closed loop with wrk at fixed concurrency.
# Each configuration gets its own server JVM, WARMUP seconds of load (discarded), then MEASURE seconds.
# Server pinned to CPU 1, wrk to CPU 0. Writes benchmarks/results/tuning.md.
#   usage: benchmarks/tuning/run-tuning.sh [WARMUP=30] [MEASURE=15]   (about 10 minutes)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WARMUP="${1:-30}"; MEASURE="${2:-15}"
JAVA="$("$ROOT/gantry" java-home)/bin/java"
JAR="$ROOT/runtime-http/target/gantry.jar"
OUT="$ROOT/benchmarks/results/tuning.md"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"; pkill -f "gantry-tuning-server" || true' EXIT
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }

python3 - "$WORK" <<'PY'
import json, sys, random
w = sys.argv[1]
random.seed(1)
json.dump({"inputs": [{"name": "features", "shape": [1, 64], "datatype": "FP32",
                       "data": [round(random.uniform(-1, 1), 6) for _ in range(64)]}]}, open(w + "/mlp.json", "w"))
ids = [101] + [random.randint(2000, 20000) for _ in range(126)] + [102]
json.dump({"inputs": [{"name": "input_ids", "shape": [1, 128], "datatype": "INT64", "data": ids},
                      {"name": "attention_mask", "shape": [1, 128], "datatype": "INT64", "data": [1] * 128},
                      {"name": "token_type_ids", "shape": [1, 128], "datatype": "INT64", "data": [0] * 128}]},
          open(w + "/minilm.json", "w"))
PY
for m in mlp minilm; do
  cat > "$WORK/$m.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/$m.json", "r"); wrk.body = f:read("*a"); f:close()
LUA
done

# repo variants: copies of mlp/minilm with one config changed
mkrepo() { # name, batch-delay-us, instances
  local dir="$WORK/repo-$1"; mkdir -p "$dir"
  for m in mlp minilm; do
    mkdir -p "$dir/$m/1"; ln -s "$ROOT/models/$m/1/model.onnx" "$dir/$m/1/model.onnx"
    cat > "$dir/$m/config.json" <<JSON
{"max_batch_size": 64, "dynamic_batching": {"max_queue_delay_microseconds": $2},
 "instance_group": [{"count": $3, "kind": "KIND_CPU"}]}
JSON
  done
  echo "$dir"
}

echo "| configuration | model | concurrency | req/s | p50 ms | p99 ms |" > "$WORK/table"
echo "|---|---|---|---|---|---|" >> "$WORK/table"
run() { # label, repo, server flags, jvm flags, model, concurrency
  local label="$1" repo="$2" flags="$3" jvm="$4" model="$5" conns="$6"
  local port=$((18000 + RANDOM % 1000))
  taskset -c 1 "$JAVA" $jvm --enable-native-access=ALL-UNNAMED -Dgantry-tuning-server -jar "$JAR" serve \
    --port "$port" --models "$repo" --data "$WORK/data-$port" --access-log off $flags > "$WORK/server-$port.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do grep -q "Gantry ready" "$WORK/server-$port.log" && break; sleep 0.25; done
  local url="http://127.0.0.1:$port/v2/models/$model/infer"
  taskset -c 0 wrk -t1 -c"$conns" -d"${WARMUP}s" -s "$WORK/$model.lua" "$url" > /dev/null
  local res; res="$(taskset -c 0 wrk -t1 -c"$conns" -d"${MEASURE}s" --latency -s "$WORK/$model.lua" "$url")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$res")"
  p50="$(awk '/ 50%/ {print $2}' <<<"$res")"; p99="$(awk '/ 99%/ {print $2}' <<<"$res")"
  echo "| $label | $model | $conns | $rps | $p50 | $p99 |" | tee -a "$WORK/table"
}

BASE="$(mkrepo base 0 1)"; DELAY="$(mkrepo delay 500 1)"; TWO="$(mkrepo two 0 2)"
# mlp (overhead-bound, 32 connections): every knob. minilm seq 128 (compute-bound, 8 connections): the ORT ones.
run "baseline (intra-op 1, no spin, delay 0, 1 instance, 1 event loop, G1)" "$BASE" "" "" mlp 32
run "ORT intra-op threads 2" "$BASE" "--intra-op-threads 2" "" mlp 32
run "ORT spinning on" "$BASE" "--ort-spinning true" "" mlp 32
run "max_queue_delay 500 us" "$DELAY" "" "" mlp 32
run "2 instances" "$TWO" "" "" mlp 32
run "2 event loops" "$BASE" "--event-loops 2" "" mlp 32
run "ParallelGC" "$BASE" "" "-XX:+UseParallelGC" mlp 32
run "ZGC" "$BASE" "" "-XX:+UseZGC" mlp 32
run "baseline" "$BASE" "" "" minilm 8
run "ORT intra-op threads 2" "$BASE" "--intra-op-threads 2" "" minilm 8
run "ORT spinning on" "$BASE" "--ort-spinning true" "" minilm 8
run "2 instances" "$TWO" "" "" minilm 8
{
  echo "# Tuning runs"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); server pinned to CPU 1, wrk to CPU 0;"
  echo "each row its own server JVM: ${WARMUP} s of load discarded, then ${MEASURE} s measured (wrk, closed loop)."
  echo "Command: benchmarks/tuning/run-tuning.sh $WARMUP $MEASURE. Note the machine is shared: compare rows as ratios."
  echo
  cat "$WORK/table"
} > "$OUT"
echo "wrote $OUT"
