package dev.tranche.scheduler.service;

import com.google.protobuf.Timestamp;
import dev.tranche.proto.v1.Department;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.HistoryJob;
import dev.tranche.proto.v1.NodesFailing;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.StateTransition;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.ExperimentStore;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.experiment.Transition;
import dev.tranche.scheduler.experiment.Waiting;
import dev.tranche.scheduler.project.DepartmentRecord;
import dev.tranche.scheduler.project.ProjectRecord;
import dev.tranche.scheduler.wire.ExperimentSpecs;

import java.time.Instant;
import java.util.List;

/** Domain records to tranche.v1 messages and back; the only place that knows both. */
final class ProtoMapper
{
    /** The latest instant a request may name (PostgreSQL stores it); an export without an end runs to it. */
    static final Instant END_OF_TIME = Instant.parse("9999-12-31T00:00:00Z");

    private ProtoMapper() {}

    static Experiment experiment(ExperimentRecord record, List<Transition> history)
    {
        Experiment.Builder experiment = Experiment.newBuilder()
                .setId(record.id())
                .setSpec(ExperimentSpecs.toProto(record.spec()))
                .setState(state(record.state()))
                .setReason(record.reason())
                .setRequestId(record.requestId().orElse(""))
                .setCreatedAt(timestamp(record.createdAt()))
                .setUpdatedAt(timestamp(record.updatedAt()))
                .setVersion(record.version())
                .setAttainedGpuSeconds(record.attainedGpuSeconds())
                .setAttempts(record.attempts())
                .setFailedAttempts(record.failedAttempts());
        history.forEach(transition -> experiment.addHistory(transition(transition)));
        record.waitingNow().ifPresent(waiting -> experiment.setWaiting(waiting(waiting)));
        return experiment.build();
    }

    static HistoryJob historyJob(ExperimentStore.FinishedRun run)
    {
        ExperimentRecord record = run.experiment();
        GpuRequest gpu = record.spec().resources().gpu();
        HistoryJob.Builder job = HistoryJob.newBuilder()
                .setExperimentId(record.id())
                .setSubmittedAt(timestamp(record.createdAt()))
                .setProject(record.project())
                .setReplicas(record.spec().replicas())
                .setRunSeconds(run.runSeconds())
                .setPriority(record.spec().priority().value())
                .setFinalState(state(record.state()));
        switch (gpu.kind()) {
            case FRACTION -> job.setGpus(gpu.milli() / (double) GpuRequest.MILLI_PER_GPU);
            case WHOLE -> job.setGpus(gpu.count());
            case MEMORY -> job.setGpuMemoryMib(gpu.memoryMib());
            case NONE -> { }
        }
        return job.build();
    }

    static dev.tranche.proto.v1.Waiting waiting(Waiting waiting)
    {
        dev.tranche.proto.v1.Waiting.Builder builder = dev.tranche.proto.v1.Waiting.newBuilder()
                .setReason(dev.tranche.proto.v1.WaitingReason.valueOf(waiting.reason().name()))
                .setMessage(waiting.message())
                .setFittingNodes(waiting.fittingNodes());
        waiting.nodesFailing().forEach((check, nodes) -> builder.addNodesFailing(NodesFailing.newBuilder()
                .setCheck(dev.tranche.proto.v1.FitCheck.valueOf(check.name()))
                .setNodes(nodes)));
        return builder.build();
    }

    static ExperimentEvent event(ExperimentChange change)
    {
        return ExperimentEvent.newBuilder()
                .setExperiment(experiment(change.experiment(), List.of()))
                .setTransition(transition(change.transition()))
                .build();
    }

    static StateTransition transition(Transition transition)
    {
        StateTransition.Builder builder = StateTransition.newBuilder()
                .setTo(state(transition.to()))
                .setReason(transition.reason())
                .setAt(timestamp(transition.at()));
        transition.from().ifPresent(from -> builder.setFrom(state(from)));
        return builder.build();
    }

    static dev.tranche.proto.v1.ExperimentState state(ExperimentState state)
    {
        return dev.tranche.proto.v1.ExperimentState.valueOf(state.name());
    }

    static ExperimentState state(dev.tranche.proto.v1.ExperimentState state)
    {
        if (state == dev.tranche.proto.v1.ExperimentState.EXPERIMENT_STATE_UNSPECIFIED || state == dev.tranche.proto.v1.ExperimentState.UNRECOGNIZED) {
            throw new IllegalArgumentException("states must name real states (PENDING, RUNNING, ...): got " + state);
        }
        return ExperimentState.valueOf(state.name());
    }

    static Project project(ProjectRecord record)
    {
        Quota.Builder quota = Quota.newBuilder()
                .setDeservedGpus(record.deservedMilli() / 1000.0)
                .setOverQuotaWeight(record.overQuotaWeight());
        record.limitMilli().ifPresent(limit -> quota.setLimitGpus(limit / 1000.0));
        return Project.newBuilder()
                .setName(record.name())
                .setDescription(record.description())
                .setDepartment(record.department().orElse(""))
                .setQuota(quota)
                .setCreatedAt(timestamp(record.createdAt()))
                .build();
    }

    static Department department(DepartmentRecord record)
    {
        Quota.Builder quota = Quota.newBuilder().setDeservedGpus(record.deservedMilli() / 1000.0);
        record.limitMilli().ifPresent(limit -> quota.setLimitGpus(limit / 1000.0));
        return Department.newBuilder()
                .setName(record.name())
                .setDescription(record.description())
                .setQuota(quota)
                .setCreatedAt(timestamp(record.createdAt()))
                .build();
    }

    /** A timestamp from a request, refused with the field's name when it is not a valid instant. */
    static Instant instant(Timestamp timestamp, String field)
    {
        if (!com.google.protobuf.util.Timestamps.isValid(timestamp) || timestamp.getSeconds() > END_OF_TIME.getEpochSecond()) {
            throw new IllegalArgumentException(field + " must be a valid time between 0001-01-01 and 9999-12-31: got " + timestamp.getSeconds() + " s, "
                    + timestamp.getNanos() + " ns");
        }
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    static Timestamp timestamp(Instant instant)
    {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
