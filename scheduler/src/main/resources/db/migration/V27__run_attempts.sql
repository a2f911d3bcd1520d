-- Each placement of an experiment is a run attempt of its own, numbered from 1: the experiment counts
-- its placements, and a placement's replicas carry the attempt they belong to. Execution backends
-- name and label the attempt's workers with it, so the workers of an earlier placement (preempted,
-- then placed again before they stopped) are never taken for the new one's. Experiments placed
-- before this migration keep attempt 0, which is what their workers, named without an attempt, are.
ALTER TABLE experiments ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE replica_placements ADD COLUMN attempt int NOT NULL DEFAULT 0 CHECK (attempt >= 0);
