package dev.tranche.scheduler.telemetry;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scheduler's Prometheus metrics, in one place: queue length per project, allocated and idle
 * milli-GPUs, cycle duration, placement failures by reason, and gRPC latency per method and status.
 */
public final class SchedulerMetrics
{
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private static final Duration[] CYCLE_TARGETS = {Duration.ofMillis(50), Duration.ofMillis(100)};

    private final Timer cycleDuration;
    private final Timer viewAge;
    private final Timer viewRead;
    private final Map<CyclePhase, Timer> phaseDurations = new EnumMap<>(CyclePhase.class);
    private final AtomicLong allocatedMilli = new AtomicLong();
    private final AtomicLong idleMilli = new AtomicLong();
    private final Map<String, AtomicLong> queueLength = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> heldByProject = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> deservedByProject = new ConcurrentHashMap<>();

    public SchedulerMetrics()
    {
        cycleDuration = cycleScale(Timer.builder("tranche.scheduling.cycle")
                .description("Time of one scheduling cycle: queue brought up to date from the views read, decisions, stored"));
        for (CyclePhase phase : CyclePhase.values()) {
            phaseDurations.put(phase, cycleScale(Timer.builder("tranche.scheduling.cycle.phase")
                    .description("Time of one phase of a scheduling cycle: queue (bringing the pending queue up to date from the views read), "
                            + "decide (the scheduling core), store (placements, evictions and waiting reasons written)")
                    .tag("phase", phase.label())));
        }
        viewAge = cycleScale(Timer.builder("tranche.scheduling.view.age").description("How old the view of the store a cycle decided from was "
                + "at the cycle's start (since the start of the read that made it): the database's latency, which the cycle does not wait for"));
        viewRead = cycleScale(Timer.builder("tranche.scheduling.view.read")
                .description("Time of one read of the store for the scheduling loop's view (on the reader's thread, not in a cycle)"));
        Gauge.builder("tranche.gpu.allocated.milli", allocatedMilli, AtomicLong::get).description("Milli-GPUs held by experiments").register(registry);
        Gauge.builder("tranche.gpu.idle.milli", idleMilli, AtomicLong::get).description("Milli-GPUs on schedulable nodes held by nobody").register(registry);
    }

    /**
     * Adds the process's own health to the scrape: heap and its pools, garbage-collection pauses,
     * threads, loaded classes, time spent compiling (JIT), CPU use and uptime. What it returns stops
     * the collection listener; one server binds once.
     */
    public AutoCloseable bindJvmMetrics()
    {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmCompilationMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics collections = new JvmGcMetrics();
        collections.bindTo(registry);
        return collections;
    }

    /** A histogram on the cycle's scale, with exact bounds at its target (100 ms) and half of it beside the generated buckets. */
    private Timer cycleScale(Timer.Builder builder)
    {
        return builder
                .publishPercentileHistogram()
                .serviceLevelObjectives(CYCLE_TARGETS)
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
    }

    public void recordViewAge(long nanos)
    {
        viewAge.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void recordViewRead(long nanos)
    {
        viewRead.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void recordCycle(long nanos, Map<String, Long> pendingByProject, long allocated, long idle)
    {
        cycleDuration.record(nanos, TimeUnit.NANOSECONDS);
        allocatedMilli.set(allocated);
        idleMilli.set(idle);
        queueLength.forEach((project, length) -> length.set(pendingByProject.getOrDefault(project, 0L)));
        pendingByProject.forEach((project, length) -> queueLength.computeIfAbsent(project, name -> {
            AtomicLong gauge = new AtomicLong();
            Gauge.builder("tranche.queue.length", gauge, AtomicLong::get).description("Experiments waiting, per project").tag("project", name).register(registry);
            return gauge;
        }).set(length));
    }

    /** A project's GPUs held and deserved at the last usage sample (the Usage page's series, as gauges). */
    public void recordProjectUsage(String project, long heldMilli, long deservedMilli)
    {
        projectGauge(heldByProject, "tranche.project.gpu.held.milli", "Milli-GPUs a project's experiments held at the last usage sample", project)
                .set(heldMilli);
        projectGauge(deservedByProject, "tranche.project.gpu.deserved.milli", "Milli-GPUs a project is entitled to (its deserved quota)", project)
                .set(deservedMilli);
    }

    private AtomicLong projectGauge(Map<String, AtomicLong> gauges, String name, String description, String project)
    {
        return gauges.computeIfAbsent(project, ignored -> {
            AtomicLong gauge = new AtomicLong();
            Gauge.builder(name, gauge, AtomicLong::get).description(description).tag("project", project).register(registry);
            return gauge;
        });
    }

    /** The parts of one cycle, so that a slow cycle says where its time went. */
    public enum CyclePhase
    {
        QUEUE, DECIDE, STORE;

        public String label()
        {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public void recordCyclePhase(CyclePhase phase, long nanos)
    {
        phaseDurations.get(phase).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void placementFailed(String reason)
    {
        placementFailed(reason, 1);
    }

    /** {@code count} pending experiments a cycle did not place for {@code reason}. */
    public void placementFailed(String reason, long count)
    {
        Counter.builder("tranche.placement.failures").description("Pending experiments a cycle could not place, by reason")
                .tag("reason", reason).register(registry).increment(count);
    }

    /** Times every gRPC call by method and status code. */
    public ServerInterceptor grpcInterceptor()
    {
        return new ServerInterceptor()
        {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next)
            {
                long start = System.nanoTime();
                String method = call.getMethodDescriptor().getFullMethodName();
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call)
                {
                    @Override
                    public void close(Status status, Metadata trailers)
                    {
                        Timer.builder("tranche.grpc.server.calls").description("gRPC calls served, by method and status")
                                .tag("method", method).tag("status", status.getCode().name())
                                .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                        super.close(status, trailers);
                    }
                }, headers);
            }
        };
    }

    /** The Prometheus text exposition. */
    public String scrape()
    {
        return registry.scrape();
    }
}
