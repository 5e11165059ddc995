#!/bin/sh
# The real agent's speed (not a test): N tests running `true` through two
# `lbsim worker --exec` agents with 16 slots each, submitted and followed
# by `lbsim submit --wait`. Prints the end-to-end rate (tests/s, from the
# submission to the last test final) and each agent's own time per run
# (spawn, wait, start and complete calls; p50 and p99) as it drains, and
# the CPU seconds of the server and of each agent (its own, and its
# tests': `true` is not free) with the load average at the end, since on a
# shared 2-core machine the rate says as much about the others as about
# the agent.
#
#   cargo build --release && scripts/agent_bench.sh [N]   # N: 20000
#   LBSIM=BIN AGENT_ARGS='--keep-logs 0' scripts/agent_bench.sh   # another binary, more flags
set -eu
n=${1:-20000}
bin=${LBSIM:-target/release/lbsim}
extra=${AGENT_ARGS:-}
dir=$(mktemp -d)
trap 'kill $a1 $a2 $srv 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" serve --port 0 --db-path "$dir/bench.db" --log-level error >"$dir/serve.out" &
srv=$!
for _ in $(seq 100); do grep -q http "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$dir/serve.out" | head -1)
for a in 1 2; do
  "$bin" worker --exec --url "$url" --allow-test-commands --slots 16 --cores 16 \
    --name "bench-$a" --log-dir "$dir/logs-$a" $extra >"$dir/agent-$a.out" &
  eval "a$a=\$!"
done
sleep 1
i=0
while [ $i -lt "$n" ]; do
  echo '{"command":["true"],"expected_duration_s":0.01}'
  i=$((i + 1))
done >"$dir/tests.jsonl"
"$bin" submit --url "$url" --file "$dir/tests.jsonl" --wait 2>/dev/null | head -1 |
  awk -v n="$n" '{print; for (i = 1; i <= NF; i++) if ($(i+1) == "s:") printf "end to end: %.0f tests/s\n", n / $i}'
# CPU seconds each process used (its own, and its reaped children's: the
# tests' `true`), so a slow run can be told apart from a busy machine.
tck=$(getconf CLK_TCK)
for p in "serve:$srv" "agent-1:$a1" "agent-2:$a2"; do
  sed 's/.*) //' "/proc/${p#*:}/stat" | awk -v n="${p%%:*}" -v t="$tck" \
    '{printf "cpu %s: %.1f s own, %.1f s children\n", n, ($12 + $13) / t, ($14 + $15) / t}'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -INT $a1 $a2
wait $a1 $a2 || true
tail -n 1 "$dir/agent-1.out" "$dir/agent-2.out"
