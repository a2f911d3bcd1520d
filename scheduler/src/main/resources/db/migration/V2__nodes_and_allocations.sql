-- The GPU inventory and who holds what. The "used" columns are kept by triggers on the allocation
-- tables, and their CHECKs make the database itself refuse an over-committed GPU or node, whatever
-- the scheduler believes.
CREATE TABLE nodes (
    name            text PRIMARY KEY,
    cpu_milli       bigint NOT NULL CHECK (cpu_milli >= 0),
    memory_mib      bigint NOT NULL CHECK (memory_mib >= 0),
    schedulable     boolean NOT NULL DEFAULT true,
    used_cpu_milli  bigint NOT NULL DEFAULT 0,
    used_memory_mib bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT node_cpu_not_overcommitted CHECK (used_cpu_milli BETWEEN 0 AND cpu_milli),
    CONSTRAINT node_memory_not_overcommitted CHECK (used_memory_mib BETWEEN 0 AND memory_mib)
);

CREATE TABLE gpus (
    node        text NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
    index       int NOT NULL CHECK (index >= 0),
    model       text NOT NULL,
    memory_mib  bigint NOT NULL CHECK (memory_mib > 0),
    used_milli  int NOT NULL DEFAULT 0,
    PRIMARY KEY (node, index),
    CONSTRAINT gpu_not_overcommitted CHECK (used_milli BETWEEN 0 AND 1000)
);

-- One row per placed replica: its node, CPU and memory.
CREATE TABLE replica_placements (
    experiment_id text NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    replica       int NOT NULL CHECK (replica >= 0),
    node          text NOT NULL REFERENCES nodes (name),
    cpu_milli     bigint NOT NULL CHECK (cpu_milli >= 0),
    memory_mib    bigint NOT NULL CHECK (memory_mib >= 0),
    -- when the gang was placed, for "most recent first" when choosing what to preempt
    placed_seq    bigserial NOT NULL,
    PRIMARY KEY (experiment_id, replica)
);

-- The milli-GPUs a replica holds on each GPU it uses.
CREATE TABLE gpu_allocations (
    experiment_id text NOT NULL,
    replica       int NOT NULL,
    node          text NOT NULL,
    gpu_index     int NOT NULL,
    milli         int NOT NULL CHECK (milli BETWEEN 1 AND 1000),
    PRIMARY KEY (experiment_id, replica, gpu_index),
    FOREIGN KEY (experiment_id, replica) REFERENCES replica_placements (experiment_id, replica) ON DELETE CASCADE,
    FOREIGN KEY (node, gpu_index) REFERENCES gpus (node, index)
);

CREATE INDEX gpu_allocations_by_gpu ON gpu_allocations (node, gpu_index);

CREATE FUNCTION track_gpu_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE gpus SET used_milli = used_milli - OLD.milli WHERE node = OLD.node AND index = OLD.gpu_index;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE gpus SET used_milli = used_milli + NEW.milli WHERE node = NEW.node AND index = NEW.gpu_index;
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER gpu_allocations_track AFTER INSERT OR UPDATE OR DELETE ON gpu_allocations
    FOR EACH ROW EXECUTE FUNCTION track_gpu_use();

CREATE FUNCTION track_node_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE nodes SET used_cpu_milli = used_cpu_milli - OLD.cpu_milli, used_memory_mib = used_memory_mib - OLD.memory_mib
        WHERE name = OLD.node;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE nodes SET used_cpu_milli = used_cpu_milli + NEW.cpu_milli, used_memory_mib = used_memory_mib + NEW.memory_mib
        WHERE name = NEW.node;
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER replica_placements_track AFTER INSERT OR UPDATE OR DELETE ON replica_placements
    FOR EACH ROW EXECUTE FUNCTION track_node_use();

CREATE INDEX replica_placements_by_node ON replica_placements (node);
