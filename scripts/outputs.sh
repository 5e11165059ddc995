#!/usr/bin/env bash
# Writes a fixed set of outputs of one lbsim binary into a directory, so a
# refactor can be checked to change no byte:
#
#   scripts/outputs.sh target/release/lbsim /tmp/before   # on the old commit
#   scripts/outputs.sh target/release/lbsim /tmp/after    # on the new one
#   diff -r /tmp/before /tmp/after                        # prints nothing
#
# It covers results JSON, per-test CSV and decision logs over every default
# scenario, every policy, stress with burst/dynamic/keys/stealing, spike,
# M/M/c, replays, the benchmark, a sweep and its merge, diff, determinism
# checks and charts, plus every command's stdout, stderr and exit code
# (help texts are left out: they are pinned by their own test).
set -uo pipefail
bin=$(realpath "$1")
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
# The NASA trace lives beside the checkout (../shared/traces), or under
# /work/shared in a worktree elsewhere.
traces=$root/../shared/traces
[ -d "$traces" ] || traces=/work/shared/traces
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")
# Everything runs inside the output directory with relative paths, so the
# directory's own name never reaches an output.
cd "$out" || exit 1
mkdir in shards
cp "$root/tests/data/tiny.swf" "$root/scenarios/mmc.json" "$root/scenarios/policy_sweep.json" \
    "$traces/NASA-iPSC-1993-3.1-cln.swf.gz" in/
unset LB_LOG_LEVEL LB_MAX_WORKERS LB_DEFAULT_DURATION LB_CONFIG_PATH LB_TOKEN

# run NAME ARGS...: stdout, stderr and the exit code of one command.
run() {
    local name=$1
    shift
    "$bin" "$@" >"$name.stdout" 2>"$name.stderr"
    echo $? >"$name.code"
}

# full NAME ARGS...: a run that also writes its JSON, CSV and decision log.
full() {
    local name=$1
    shift
    run "$name" "$@" --output "$name.json" --csv "$name.csv" --decisions "$name.decisions.csv"
}

full stress_default stress
full stress_burst stress --burst --workers 10 --tests 400
full stress_dynamic stress --dynamic --tests 300 --duration 90 --seed 7
full stress_keys stress --concurrency-keys 4 --tests 300 --seed 3
full stress_stealing stress --work-stealing --dynamic --tests 500 --duration 120
full stress_all stress --burst --dynamic --work-stealing --concurrency-keys 3 --tests 400 --seed 11
full stress_composite stress --scheduler composite --composite-weights fifo:0.5,random:0.5 --tests 300
full no_command --workers 8 --tests 150
for s in normal_operation high_priority_burst resource_contention worker_churn \
    spike_and_recovery rack_failure flash_crowd; do
    full "scenario_$s" scenario "$s"
done
full scenario_flag --scenario worker_churn --seed 5
full scenario_override scenario resource_contention --workers 6 --tests 300 --duration 20 --scheduler best_fit
for p in performance_based round_robin weighted_round_robin priority_based affinity_based \
    composite adaptive random least_loaded power_of_two best_fit fifo; do
    full "policy_$p" stress --dynamic --burst --tests 600 --workers 15 --scheduler "$p"
    full "policy_contended_$p" scenario resource_contention --scheduler "$p"
done
full spike spike
full spike_big spike --workers 50 --tests 5000 --duration 300
run mmc_rho80 --config in/mmc.json scenario mmc_rho80 --tests 20000 --output "mmc_rho80.json"
run mmc_rho50 --config in/mmc.json scenario mmc_rho50 --tests 20000 --output "mmc_rho50.json" --scheduler fifo
full replay_tiny replay in/tiny.swf
full replay_nasa replay in/NASA-iPSC-1993-3.1-cln.swf.gz --workers 8 --time-scale 0.5
full replay_csv replay "stress_dynamic.csv" --scheduler least_loaded
full replay_cluster replay in/tiny.swf --cluster resource_contention
run benchmark benchmark --output "benchmark.json"
run benchmark_fifo benchmark --scheduler fifo --seed 9
run list_scenarios --list-scenarios
run list_schedulers --list-schedulers
run list_scenarios_mmc --config in/mmc.json --list-scenarios
run determinism check-determinism
run determinism_scenario check-determinism worker_churn
run determinism_flags check-determinism --burst --dynamic --work-stealing --concurrency-keys 2
run diff_decisions diff "policy_fifo.decisions.csv" "policy_random.decisions.csv"
run diff_results diff "policy_fifo.json" "policy_random.json" --tolerance 5
run diff_same diff "spike.json" "spike.json"
run sweep sweep in/policy_sweep.json --jobs 2 --output "sweep.csv"
run sweep_shard1 sweep in/policy_sweep.json --shard 1/2 --output shards/s1.csv
run sweep_shard2 sweep in/policy_sweep.json --shard 2/2 --output shards/s2.csv
run merge merge shards/s1.csv shards/s2.csv --output "merged.csv"
for f in spike.json benchmark.json sweep.csv; do
    run "visualize_$f" visualize "$f" --output-dir "charts_${f%.*}"
done
# Failures: the message and the exit code.
run bad_workers stress --workers 0
run bad_scenario scenario nope
run bad_config --config /nonexistent/x.json scenario normal_operation
run bad_trace replay /nonexistent.swf
run bad_benchmark benchmark --workers 3
exit 0
