-- Why a PENDING experiment still waits, typed, as the scheduling cycle that last considered it saw it
-- (the reason column keeps the sentence): the reason's name, and for NO_FIT and NEVER_FITS how many
-- nodes failed each fit check for one replica (two arrays of equal length: check names, node counts)
-- and how many nodes could take one. NULL while no cycle has explained it since it entered the queue;
-- every state change sets them back to NULL.
ALTER TABLE experiments
    ADD COLUMN waiting_reason text,
    ADD COLUMN waiting_fit_checks text[],
    ADD COLUMN waiting_fit_nodes integer[],
    ADD COLUMN waiting_fitting_nodes integer,
    ADD CONSTRAINT experiments_waiting_fit_arrays CHECK (cardinality(waiting_fit_checks) = cardinality(waiting_fit_nodes));
