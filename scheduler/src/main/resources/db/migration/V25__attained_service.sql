-- The GPU service each experiment has received, for least-attained-service ordering: GPU-seconds of
-- the attempts that ended (added when an attempt releases its GPUs), and when each replica of the
-- attempt now running was placed, so that the current attempt counts as well. Replicas placed
-- before this migration count from the migration on.
ALTER TABLE experiments ADD COLUMN attained_gpu_seconds bigint NOT NULL DEFAULT 0 CHECK (attained_gpu_seconds >= 0);
ALTER TABLE replica_placements ADD COLUMN placed_at timestamptz NOT NULL DEFAULT now();
