#!/bin/bash
# Submits the sweep array and the merge that waits for it; prints
# "sweep JOBID merge JOBID". Run it in the directory holding the grid.
set -euo pipefail
here=$(dirname "$0")
mkdir -p results
sweep=$(sbatch --parsable "$here/sweep.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$sweep" "$here/merge.sbatch")
echo "sweep $sweep merge $merge"
