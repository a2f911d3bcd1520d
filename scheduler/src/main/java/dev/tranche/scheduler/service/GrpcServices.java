package dev.tranche.scheduler.service;

import io.grpc.BindableService;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Every gRPC service the scheduler serves (its four APIs, health and reflection), each behind
 * authentication and the request guard, ready to add to any {@link ServerBuilder}: Netty for clients,
 * in-process for the HTTP API and for tests that need no network.
 */
public final class GrpcServices
{
    private final List<ServerServiceDefinition> guarded;

    public GrpcServices(List<BindableService> services, HealthStatusManager health, ServerInterceptor authentication)
    {
        requireNonNull(services, "services is null");
        requireNonNull(health, "health is null");
        requireNonNull(authentication, "authentication is null");
        List<ServerServiceDefinition> definitions = new ArrayList<>();
        definitions.add(RequestGuard.guard(health.getHealthService().bindService(), authentication));
        definitions.add(RequestGuard.guard(ProtoReflectionServiceV1.newInstance().bindService(), authentication));
        services.forEach(service -> definitions.add(RequestGuard.guard(service.bindService(), authentication)));
        this.guarded = List.copyOf(definitions);
    }

    /** Adds every service to {@code builder} and returns it. */
    public <T extends ServerBuilder<T>> T addTo(T builder)
    {
        guarded.forEach(builder::addService);
        return builder;
    }
}
