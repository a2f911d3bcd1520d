package dev.tranche.scheduler.backend;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * What an execution backend needs to start a placed gang: the experiment and the run attempt this
 * placement is, its spec (JSON), where each replica goes, the ports the gang may listen on, and what
 * the workers need to report back (docs/worker.md, the environment contract).
 */
public record LaunchRequest(String experimentId, int attempt, String project, String specJson, List<ReplicaLaunch> replicas, String schedulerAddress,
        String credential, GangPorts ports)
{
    public LaunchRequest
    {
        requireNonNull(experimentId, "experimentId is null");
        if (attempt < 0) {
            throw new IllegalArgumentException("an attempt is numbered from 0: got " + attempt);
        }
        requireNonNull(project, "project is null");
        requireNonNull(specJson, "specJson is null");
        replicas = List.copyOf(requireNonNull(replicas, "replicas is null"));
        requireNonNull(schedulerAddress, "schedulerAddress is null");
        requireNonNull(credential, "credential is null");
        requireNonNull(ports, "ports is null");
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("a launch needs at least one replica");
        }
    }

    /** The run attempt these workers are. */
    public RunAttempt run()
    {
        return new RunAttempt(experimentId, attempt);
    }
}
