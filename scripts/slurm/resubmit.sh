#!/bin/bash
# Reruns failed or cancelled array tasks with --resume and points the
# waiting merge at them: resubmit.sh TASKS SWEEP_JOBID MERGE_JOBID, e.g.
# resubmit.sh 1,3 1234 1235. Without this the merge waits forever
# (Reason=DependencyNeverSatisfied: afterok can no longer be met).
set -euo pipefail
here=$(dirname "$0")
tasks=$1 sweep=$2 merge=$3
again=$(sbatch --parsable --array="$tasks" "$here/sweep.sbatch")
# afterany on the first array: its other tasks must have ended (the merge
# itself refuses if one of them failed); afterok on the rerun.
scontrol update JobId="$merge" Dependency="afterany:$sweep,afterok:$again"
echo "resubmitted $again; merge $merge now waits for it"
