-- The ports each gang's workers listen on, per host: the Spark master, the driver and its block
-- manager, gradient sharing. A gang's rows are written before its workers start and removed once it
-- holds no GPUs and has no workers left, so a restarted scheduler never hands a port in use to another
-- gang. The primary key makes the database itself refuse one port to two gangs on one host.
CREATE TABLE gang_ports (
    host          text NOT NULL,
    port          int NOT NULL CHECK (port BETWEEN 1 AND 65535),
    experiment_id text NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    purpose       text NOT NULL CHECK (purpose IN ('spark-master', 'driver', 'block-manager', 'gradient-sharing')),
    PRIMARY KEY (host, port),
    UNIQUE (experiment_id, host, purpose)
);

CREATE INDEX gang_ports_by_experiment ON gang_ports (experiment_id);
