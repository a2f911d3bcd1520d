-- A node's reported CPU and memory are the truth, even below what its placements hold (a smaller
-- --node-cpu after a restart, a Kubernetes node whose allocatable shrank): the CHECKs refused such a
-- registration whole. Now the capacity is stored, the placements stay, and only what would add to an
-- over-committed node is refused, by the trigger that keeps the "used" columns (same constraint names,
-- same SQLSTATE 23514 as before).
ALTER TABLE nodes DROP CONSTRAINT node_cpu_not_overcommitted;
ALTER TABLE nodes DROP CONSTRAINT node_memory_not_overcommitted;
ALTER TABLE nodes ADD CONSTRAINT node_cpu_use_not_negative CHECK (used_cpu_milli >= 0);
ALTER TABLE nodes ADD CONSTRAINT node_memory_use_not_negative CHECK (used_memory_mib >= 0);

CREATE OR REPLACE FUNCTION track_node_use() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    after nodes%ROWTYPE;
    cpu_added bigint;
    memory_added bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE nodes SET used_cpu_milli = used_cpu_milli - OLD.cpu_milli, used_memory_mib = used_memory_mib - OLD.memory_mib
        WHERE name = OLD.node;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE nodes SET used_cpu_milli = used_cpu_milli + NEW.cpu_milli, used_memory_mib = used_memory_mib + NEW.memory_mib
        WHERE name = NEW.node
        RETURNING * INTO after;
        cpu_added := NEW.cpu_milli - CASE WHEN TG_OP = 'UPDATE' AND OLD.node = NEW.node THEN OLD.cpu_milli ELSE 0 END;
        memory_added := NEW.memory_mib - CASE WHEN TG_OP = 'UPDATE' AND OLD.node = NEW.node THEN OLD.memory_mib ELSE 0 END;
        IF cpu_added > 0 AND after.used_cpu_milli > after.cpu_milli THEN
            RAISE EXCEPTION 'node % would be over-committed: % CPU milli used of % (violates check constraint "node_cpu_not_overcommitted")',
                    NEW.node, after.used_cpu_milli, after.cpu_milli
                USING ERRCODE = 'check_violation', CONSTRAINT = 'node_cpu_not_overcommitted', TABLE = 'nodes';
        END IF;
        IF memory_added > 0 AND after.used_memory_mib > after.memory_mib THEN
            RAISE EXCEPTION 'node % would be over-committed: % MiB of memory used of % (violates check constraint "node_memory_not_overcommitted")',
                    NEW.node, after.used_memory_mib, after.memory_mib
                USING ERRCODE = 'check_violation', CONSTRAINT = 'node_memory_not_overcommitted', TABLE = 'nodes';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;
