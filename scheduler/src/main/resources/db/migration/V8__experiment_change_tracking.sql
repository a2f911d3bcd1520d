-- Which transaction last wrote each experiment row, so the scheduling loop reads only what changed
-- since its previous cycle instead of the whole queue (100,000 pending rows cost more than a cycle
-- may take). The loop keeps the xmin of the snapshot it last read: a transaction older than that had
-- ended before that read, so its rows were seen then; rows of any later transaction are read again.
-- xid8 (PostgreSQL 13+) never wraps around.
ALTER TABLE experiments ADD COLUMN change_xid xid8 NOT NULL DEFAULT '0';

CREATE FUNCTION experiments_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER experiments_mark_change BEFORE INSERT OR UPDATE ON experiments
    FOR EACH ROW EXECUTE FUNCTION experiments_mark_change();

CREATE INDEX experiments_by_change ON experiments (change_xid);
