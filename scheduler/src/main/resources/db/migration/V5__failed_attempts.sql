-- How often an experiment's workers failed; it is retried until this passes its max_retries.
ALTER TABLE experiments ADD COLUMN failed_attempts int NOT NULL DEFAULT 0;
