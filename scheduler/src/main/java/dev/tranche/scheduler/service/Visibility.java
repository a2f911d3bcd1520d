package dev.tranche.scheduler.service;

import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.security.Callers;
import dev.tranche.scheduler.security.Principal;

/**
 * An experiment by id as the caller may see it. To anyone but an admin, an experiment of another
 * project and one that does not exist get the same refusal, which names only the id they sent.
 */
final class Visibility
{
    private Visibility() {}

    static ExperimentRecord readable(ExperimentManager experiments, Principal caller, String id)
    {
        ExperimentRecord record = find(experiments, caller, id);
        if (!caller.canRead(record.project())) {
            throw hidden(id);
        }
        return record;
    }

    static ExperimentRecord writable(ExperimentManager experiments, Principal caller, String id)
    {
        ExperimentRecord record = readable(experiments, caller, id);
        if (!caller.canWrite(record.project())) {
            throw Callers.denied("this token may only read experiment " + id);
        }
        return record;
    }

    private static ExperimentRecord find(ExperimentManager experiments, Principal caller, String id)
    {
        try {
            return experiments.get(id);
        }
        catch (NotFoundException e) {
            if (caller.isAdmin()) {
                throw e;
            }
            throw hidden(id);
        }
    }

    private static RuntimeException hidden(String id)
    {
        return Callers.denied("experiment " + (id.length() > 64 ? id.substring(0, 64) + "..." : id) + " is not in a project this token can read");
    }
}
