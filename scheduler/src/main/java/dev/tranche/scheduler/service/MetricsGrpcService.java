package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GetMetricsResponse;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.metrics.Lttb;
import dev.tranche.scheduler.metrics.MetricSample;
import dev.tranche.scheduler.metrics.MetricsStore;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.security.Callers;
import dev.tranche.scheduler.security.Principal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * tranche.v1.MetricsService: workers stream metric batches, each stored as it arrives (gRPC asks for
 * the next batch only when the last is stored, so a fast worker cannot flood the scheduler); a
 * stream is bound to one experiment and needs that experiment's credential.
 */
public final class MetricsGrpcService
        extends MetricsServiceGrpc.MetricsServiceImplBase
{
    static final int MAX_POINTS_PER_BATCH = 10_000;
    private static final int DEFAULT_MAX_POINTS = 10_000;
    private static final int MAX_POINTS = 100_000;

    private final ExperimentManager experiments;
    private final MetricsStore metrics;
    private final WorkerCredentials credentials;
    private final ExperimentEventBus events;

    public MetricsGrpcService(ExperimentManager experiments, MetricsStore metrics, WorkerCredentials credentials, ExperimentEventBus events)
    {
        this.events = requireNonNull(events, "events is null");
        this.experiments = requireNonNull(experiments, "experiments is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.credentials = requireNonNull(credentials, "credentials is null");
    }

    @Override
    public StreamObserver<MetricBatch> report(StreamObserver<ReportAck> response)
    {
        return new StreamObserver<>()
        {
            private final Optional<Principal> caller = Callers.currentIfAny();
            private String experimentId;
            private long stored;
            private boolean failed;
            // set when the experiment ends while the stream is open: its credential expires with it
            private volatile ExperimentState endedAs;
            private ExperimentEventBus.Subscription ending;

            @Override
            public void onNext(MetricBatch batch)
            {
                if (failed) {
                    return;
                }
                try {
                    if (experimentId == null) {
                        String id = batch.getExperimentId();
                        // watch before checking, so an end between the two is not missed
                        ending = events.subscribe(change -> change.experiment().id().equals(id) && change.transition().to().isTerminal(),
                                change -> endedAs = change.transition().to());
                        admit(batch, caller);
                        experimentId = id;
                    }
                    if (endedAs != null) {
                        throw Callers.denied("the credential for experiment " + experimentId + " expired when it ended (" + endedAs + ")");
                    }
                    else if (!experimentId.equals(batch.getExperimentId())) {
                        throw new IllegalArgumentException("experiment_id must stay " + experimentId + " for the whole stream: got " + batch.getExperimentId());
                    }
                    if (batch.getPointsCount() > MAX_POINTS_PER_BATCH) {
                        throw new IllegalArgumentException("a batch may hold at most " + MAX_POINTS_PER_BATCH + " points: got " + batch.getPointsCount());
                    }
                    // every point is checked before the batch is stored (in one statement: all or nothing)
                    List<MetricSample> samples = new ArrayList<>(batch.getPointsCount());
                    for (int i = 0; i < batch.getPointsCount(); i++) {
                        MetricPoint point = batch.getPoints(i);
                        samples.add(new MetricSample(experimentId, point.getName(), point.getStep(), point.getEpoch(), point.getValue(),
                                point.hasAt() ? ProtoMapper.instant(point.getAt(), "points[" + i + "].at") : Instant.now()));
                    }
                    stored += metrics.store(experimentId, samples);
                }
                catch (RuntimeException e) {
                    failed = true;
                    stopWatching();
                    response.onError(GrpcErrors.toStatus(e));
                }
            }

            @Override
            public void onError(Throwable t)
            {
                // the worker went away; what arrived is stored, and it resends the rest
                stopWatching();
            }

            private void stopWatching()
            {
                if (ending != null) {
                    ending.close();
                }
            }

            @Override
            public void onCompleted()
            {
                stopWatching();
                if (!failed) {
                    response.onNext(ReportAck.newBuilder().setStored(stored).build());
                    response.onCompleted();
                }
            }
        };
    }

    /**
     * The first batch must name an experiment that is still going and carry its credential (in the
     * batch, or as the call's bearer token). A credential expires when its experiment ends.
     */
    private void admit(MetricBatch batch, Optional<Principal> caller)
    {
        if (batch.getExperimentId().isEmpty()) {
            throw new IllegalArgumentException("experiment_id is required");
        }
        boolean byBearer = caller.filter(Principal.Worker.class::isInstance)
                .map(worker -> ((Principal.Worker) worker).experimentId().equals(batch.getExperimentId()))
                .orElse(false);
        if (caller.isPresent() && !byBearer) {
            throw Callers.denied("the credential is not valid for experiment " + batch.getExperimentId());
        }
        if (!byBearer) {
            if (batch.getCredential().isEmpty()) {
                throw new StatusRuntimeException(Status.UNAUTHENTICATED.withDescription("a worker credential is required (credential, or the bearer token)"));
            }
            if (!credentials.verify(batch.getExperimentId(), batch.getCredential())) {
                // the same answer for an unknown experiment, so a guess learns nothing
                throw Callers.denied("the credential is not valid for experiment " + batch.getExperimentId());
            }
        }
        ExperimentRecord experiment = experiments.get(batch.getExperimentId());
        if (experiment.state().isTerminal()) {
            throw Callers.denied("the credential for experiment " + experiment.id() + " expired when it ended (" + experiment.state() + ")");
        }
    }

    @Override
    public void get(GetMetricsRequest request, StreamObserver<GetMetricsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getMaxPoints() < 0 || request.getMaxPoints() > MAX_POINTS) {
                throw new IllegalArgumentException("max_points must be in [1, " + MAX_POINTS + "] (0 for " + DEFAULT_MAX_POINTS + "): got " + request.getMaxPoints());
            }
            if (request.getNamesCount() > 100) {
                throw new IllegalArgumentException("names may list at most 100 series: got " + request.getNamesCount());
            }
            ExperimentRecord experiment = Visibility.readable(experiments, Callers.current(), request.getExperimentId());
            GetMetricsResponse.Builder response = GetMetricsResponse.newBuilder();
            if (request.getDownsampleTo() != 0 && (request.getDownsampleTo() < 3 || request.getDownsampleTo() > MAX_POINTS)) {
                throw new IllegalArgumentException("downsample_to must be in [3, " + MAX_POINTS + "] (0 for none): got " + request.getDownsampleTo());
            }
            List<MetricSample> samples;
            if (request.getLatestOnly()) {
                samples = metrics.latest(experiment.id(), request.getNamesList());
            }
            else if (request.getDownsampleTo() > 0) {
                // reduced in the database, then LTTB per series: a million-point run still charts from 2000 points
                samples = new ArrayList<>();
                List<MetricSample> all = metrics.forChart(experiment.id(), request.getNamesList(), request.getAfterStep(), request.getDownsampleTo());
                int from = 0;
                for (int i = 1; i <= all.size(); i++) {
                    if (i == all.size() || !all.get(i).name().equals(all.get(from).name())) {
                        samples.addAll(Lttb.downsample(all.subList(from, i), request.getDownsampleTo()));
                        from = i;
                    }
                }
            }
            else {
                samples = metrics.read(experiment.id(), request.getNamesList(), request.getAfterStep(), request.getMaxPoints() == 0 ? DEFAULT_MAX_POINTS : request.getMaxPoints());
            }
            for (MetricSample sample : samples) {
                response.addPoints(MetricPoint.newBuilder()
                        .setName(sample.name())
                        .setValue(sample.value())
                        .setStep(sample.step())
                        .setEpoch(sample.epoch())
                        .setAt(ProtoMapper.timestamp(sample.at())));
            }
            return response.build();
        });
    }
}
