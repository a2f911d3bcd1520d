-- The GPUs each experiment asks for (milli-GPUs for the whole gang; requests by GPU memory count 0,
-- their size depends on the GPU), so that demand (GPUs waiting per project for ListQuotas, and the
-- Usage page's fairness) is a sum in SQL instead of a decode of every pending spec's protobuf bytes.
-- Rows stored before this version are filled in by migration 24 (Java: it reads the specs).
ALTER TABLE experiments ADD COLUMN requested_milli bigint;

-- What each project's PENDING experiments asked for at that minute: with held_milli, its demand.
ALTER TABLE usage_samples ADD COLUMN pending_milli bigint NOT NULL DEFAULT 0;
