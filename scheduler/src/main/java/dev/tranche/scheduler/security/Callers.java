package dev.tranche.scheduler.security;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.Optional;

/**
 * The caller of the current gRPC call, put in the call's context by {@link AuthInterceptor}, and the
 * project checks the services make with it. Refusals name only what the caller sent, never another
 * project's data.
 */
public final class Callers
{
    static final Context.Key<Principal> PRINCIPAL = Context.key("tranche-principal");

    private Callers() {}

    public static Principal current()
    {
        Principal principal = PRINCIPAL.get();
        if (principal == null) {
            // only reachable if a service is served without the interceptor: refuse rather than allow
            throw Status.UNAUTHENTICATED.withDescription("no authenticated caller").asRuntimeException();
        }
        return principal;
    }

    public static Optional<Principal> currentIfAny()
    {
        return Optional.ofNullable(PRINCIPAL.get());
    }

    public static Context withPrincipal(Context context, Principal principal)
    {
        return context.withValue(PRINCIPAL, principal);
    }

    public static void requireRead(Principal caller, String project)
    {
        if (!caller.canRead(project)) {
            throw denied("this token may not read project " + project);
        }
    }

    public static void requireWrite(Principal caller, String project)
    {
        if (!caller.canWrite(project)) {
            throw denied(caller.canRead(project) ? "this token may only read project " + project : "this token may not use project " + project);
        }
    }

    public static StatusRuntimeException denied(String message)
    {
        return Status.PERMISSION_DENIED.withDescription(message).asRuntimeException();
    }
}
