#!/usr/bin/env bash
# Target 16.2 (MLP JSON p50 at one client, Gantry vs the direct-call server) with wrk, a C client, instead of the
# standard run's Java load generator: the two servers take turns (direct, Gantry, direct, Gantry, ... ROUNDS
# times), each on CPU 1 with wrk on CPU 0, with the standard run's JVM options but its native heap trim (the
# launcher's -XX:TrimNativeHeapInterval=30000), the direct server with its four models, Gantry with the MLP
# only. Per server: 40 s of
# warm-up at 16 connections, 10 s unmeasured at one, then 15 s measured at one, with each thread's context
# switches and CPU time per request over the measured window (thread_switches.py).
#
# Run from the repository root after `mvn -B -o -DskipTests package`; needs wrk (apt-get install wrk) and a JDK
# >= 21 as JAVA_HOME. Usage: benchmarks/profiling/one_client_wrk.sh [ROUNDS] [OUT_DIR]. A server it started is
# stopped however the script ends.
set -euo pipefail
rounds=${1:-2}
out=${2:-$(mktemp -d /tmp/gantry-one-client.XXXXXX)}
java="${JAVA_HOME:?set JAVA_HOME to a JDK >= 21}/bin/java"
repo_root=$(pwd)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/models" "$out/data"
ln -sfn "$repo_root/models/mlp" "$out/models/mlp"
jvm=(-XX:InlineSmallCode=1000 --enable-native-access=ALL-UNNAMED -Xmx384m)
# As the launcher: Netty's Unsafe buffer access allowed where the JDK knows the option (23 and later).
feature=$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
if [ "${feature%%.*}" -ge 23 ]; then jvm+=(--sun-misc-unsafe-memory-access=allow); fi
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT
# The body: the MLP's 64 features in [-1, 1) as FP32, each as its shortest text (as Float.toString and the load
# generator write them).
body=$(python3 - <<'PY'
import random, struct
def shortest(x):
    f = struct.unpack("f", struct.pack("f", x))[0]
    for p in range(1, 10):
        t = "%.*g" % (p, f)
        if struct.unpack("f", struct.pack("f", float(t)))[0] == f:
            return t
random.seed(7)
data = ",".join(shortest(random.uniform(-1, 1)) for _ in range(64))
print('{"inputs":[{"name":"features","shape":[1,64],"datatype":"FP32","data":[' + data + ']}]}')
PY
)
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$body" \
  > "$out/mlp.lua"

serve() { # name port command...
  local name=$1 port=$2; shift 2
  taskset -c 1 "$@" > "$out/$name.log" 2>&1 &
  local pid=$!
  server_pid=$pid
  for _ in $(seq 1 120); do
    grep -q "ready on" "$out/$name.log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 1
  done
  grep -q "ready on" "$out/$name.log" || { echo "$name did not start, see $out/$name.log"; exit 1; }
  local url="http://127.0.0.1:$port/v2/models/mlp/infer"
  taskset -c 0 wrk -t1 -c16 -d40s -s "$out/mlp.lua" "$url" > /dev/null
  taskset -c 0 wrk -t1 -c1 -d10s -s "$out/mlp.lua" "$url" > /dev/null
  python3 "$here/thread_switches.py" snap $pid "$out/before.json"
  taskset -c 0 wrk -t1 -c1 -d15s -s "$out/mlp.lua" --latency "$url" > "$out/$name.wrk"
  python3 "$here/thread_switches.py" snap $pid "$out/after.json"
  local n
  n=$(awk '/requests in/ {print $1}' "$out/$name.wrk")
  if grep -q "Non-2xx" "$out/$name.wrk"; then echo "$name answered errors:"; cat "$out/$name.wrk"; exit 1; fi
  echo "### $name: $n requests in $(awk '/requests in/ {print $4}' "$out/$name.wrk" | tr -d ,), p50 $(awk \
    '$1 == "50%" {print $2}' "$out/$name.wrk"), p99 $(awk '$1 == "99%" {print $2}' "$out/$name.wrk")$(grep -q \
    "Socket errors" "$out/$name.wrk" && grep "Socket errors" "$out/$name.wrk" | sed 's/^ */; /')"
  echo
  python3 "$here/thread_switches.py" diff "$out/before.json" "$out/after.json" "$n"
  echo
  kill $pid
  wait $pid 2>/dev/null || true
  server_pid=
}

echo "one client, wrk on CPU 0, servers on CPU 1, $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for r in $(seq 1 "$rounds"); do
  serve "direct-$r" 8090 "$java" "${jvm[@]}" -cp benchmarks/target/benchmarks.jar \
    dev.gantry.bench.direct.DirectCallServer --models models --model mlp --model minilm --model minilm-q \
    --model identity_fp32 --port 8090 --workers 2
  serve "gantry-$r" 8091 "$java" "${jvm[@]}" -cp runtime-http/target/gantry.jar dev.gantry.http.Main serve \
    --host 127.0.0.1 --port 8091 --grpc-port -1 --models "$out/models" --data "$out/data/$r" --event-loops 1 \
    --intra-op-threads 1
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); files in $out"
