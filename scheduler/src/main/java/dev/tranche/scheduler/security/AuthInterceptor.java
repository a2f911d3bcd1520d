package dev.tranche.scheduler.security;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.tranche.scheduler.errors.StoreException;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.inprocess.InProcessSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Authenticates every gRPC call, applies the method's {@link AccessRule} and the caller's rate
 * limit, puts the caller in the call's context for the services' project checks, and writes admin
 * actions and every refusal (whoever refused it: here or a service) to the audit log.
 */
public final class AuthInterceptor
        implements ServerInterceptor
{
    private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
    public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    /** Set by the HTTP API on its in-process calls: the browser's address. Ignored from any other transport. */
    public static final Metadata.Key<String> FORWARDED_FOR = Metadata.Key.of("x-tranche-forwarded-for", Metadata.ASCII_STRING_MARSHALLER);
    private static final Set<Status.Code> AUDITED_REFUSALS = Set.of(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED, Status.Code.RESOURCE_EXHAUSTED);
    // a project's own name comes before the department it belongs to: creating project nlp in
    // department research acts on nlp
    private static final List<String> TARGET_FIELDS = List.of("id", "experiment_id", "project", "subject", "spec", "name", "department");

    private final AccessPolicy policy;
    private final TokenService tokens;
    private final RateLimiter rateLimiter;
    private final AuditLog audit;
    private final FailedAuthentications failures;
    private final Clock clock;

    public AuthInterceptor(AccessPolicy policy, TokenService tokens, RateLimiter rateLimiter, AuditLog audit, FailedAuthentications failures, Clock clock)
    {
        this.failures = requireNonNull(failures, "failures is null");
        this.policy = requireNonNull(policy, "policy is null");
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.rateLimiter = requireNonNull(rateLimiter, "rateLimiter is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next)
    {
        String method = call.getMethodDescriptor().getFullMethodName();
        String remote = remoteAddress(call, headers);
        Optional<AccessRule> rule = policy.ruleFor(method);
        if (rule.isEmpty()) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription(method + " is not in the access policy"), "anonymous", method, remote);
        }
        if (rule.get() == AccessRule.PUBLIC) {
            return next.startCall(call, headers);
        }
        String bearer = bearer(headers);
        Principal principal = null;
        if (bearer != null || rule.get() != AccessRule.WORKER) {
            if (!failures.admit(remote)) {
                // counted for a summary row instead of one audit row per attempt
                return refuse(call, failures.refusal(remote), "anonymous", method, remote, false);
            }
            try {
                principal = tokens.authenticate(bearer);
            }
            catch (AuthenticationException e) {
                failures.failed(remote);
                return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()), "anonymous", method, remote);
            }
            catch (StoreException e) {
                // the token could not be looked up: not the caller's fault, and not worth an audit row
                return fail(call, e);
            }
        }
        if (rule.get() == AccessRule.WORKER) {
            if (principal instanceof Principal.User user) {
                return refuse(call, Status.PERMISSION_DENIED.withDescription(method + " takes a worker's credential, not a user token"), user.describe(), method, remote);
            }
            // no bearer: the service checks the credential the worker sends in its first message
        }
        else if (principal instanceof Principal.Worker worker) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription("a worker credential may only report metrics"), worker.describe(), method, remote);
        }
        else if (principal instanceof Principal.User user && !user.role().atLeast(rule.get().minimumRole().orElseThrow())) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription("role " + user.role().name().toLowerCase(Locale.ROOT) + " may not call " + method
                    + "; it needs " + rule.get().minimumRole().get().name().toLowerCase(Locale.ROOT)), user.describe(), method, remote);
        }
        String actor = principal == null ? "anonymous" : principal.describe();
        if (principal != null && !rateLimiter.tryAcquire(principal.rateKey())) {
            return refuse(call, Status.RESOURCE_EXHAUSTED.withDescription("rate limit exceeded: at most " + Math.round(rateLimiter.perSecond())
                    + " requests a second for this token; retry shortly"), actor, method, remote);
        }
        AuditingCall<Q, R> audited = new AuditingCall<>(call, actor, method, remote, rule.get().audited());
        Context context = principal == null ? Context.current() : Callers.withPrincipal(Context.current(), principal);
        ServerCall.Listener<Q> listener = Contexts.interceptCall(context, audited, headers, next);
        return new SimpleForwardingServerCallListener<>(listener)
        {
            @Override
            public void onMessage(Q message)
            {
                audited.noteTarget(message);
                super.onMessage(message);
            }
        };
    }

    /**
     * Refuses the call after reading its first message, so that the audit log says what the refused
     * caller tried to act on (a project, an experiment), not only which method.
     */
    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String actor, String method, String remote)
    {
        return refuse(call, status, actor, method, remote, true);
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String actor, String method, String remote, boolean audited)
    {
        call.request(1);
        return new ServerCall.Listener<>()
        {
            private boolean done;

            @Override
            public void onMessage(Q message)
            {
                finish(target(message));
            }

            @Override
            public void onHalfClose()
            {
                finish("");
            }

            @Override
            public void onCancel()
            {
                if (!done) {
                    done = true;
                    if (audited) {
                        audit.record(new AuditEntry(0, clock.instant(), actor, method, "", status.getCode().name(), status.getDescription(), remote));
                    }
                }
            }

            private void finish(String target)
            {
                if (done) {
                    return;
                }
                done = true;
                if (audited) {
                    audit.record(new AuditEntry(0, clock.instant(), actor, method, target, status.getCode().name(), status.getDescription(), remote));
                }
                call.close(status, new Metadata());
            }
        };
    }

    /** Ends a call whose token could not be checked because the database failed. */
    private static <Q, R> ServerCall.Listener<Q> fail(ServerCall<Q, R> call, StoreException e)
    {
        Status status = e.unavailable()
                .map(reason -> Status.UNAVAILABLE.withDescription(StoreException.unavailableMessage(reason)))
                .orElseGet(() -> {
                    log.error("could not check a token", e);
                    return Status.INTERNAL.withDescription("internal error; the scheduler's log has the details");
                });
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }

    private static String bearer(Metadata headers)
    {
        String value = headers.get(AUTHORIZATION);
        if (value == null) {
            return null;
        }
        String trimmed = value.strip();
        if (trimmed.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return trimmed.substring(7).strip();
        }
        return trimmed;
    }

    private static String remoteAddress(ServerCall<?, ?> call, Metadata headers)
    {
        SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (address instanceof InProcessSocketAddress) {
            String forwarded = headers.get(FORWARDED_FOR);
            return forwarded == null ? "in-process" : "http " + forwarded;
        }
        if (address == null) {
            return "";
        }
        String text = address.toString();
        return text.startsWith("/") ? text.substring(1) : text;
    }

    /** What a request acts on, for the audit log: the first of its id-like fields that is set. */
    static String target(Object message)
    {
        if (!(message instanceof Message proto)) {
            return "";
        }
        for (String name : TARGET_FIELDS) {
            FieldDescriptor field = proto.getDescriptorForType().findFieldByName(name);
            if (field == null || field.isRepeated()) {
                continue;
            }
            if (field.getJavaType() == FieldDescriptor.JavaType.STRING) {
                String value = (String) proto.getField(field);
                if (!value.isEmpty()) {
                    return value;
                }
            }
            else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && proto.hasField(field)) {
                String nested = target(proto.getField(field));
                if (!nested.isEmpty()) {
                    return nested;
                }
            }
        }
        return "";
    }

    private final class AuditingCall<Q, R>
            extends SimpleForwardingServerCall<Q, R>
    {
        private final String actor;
        private final String method;
        private final String remote;
        private final boolean auditAlways;
        // the first request, kept to name the target only if this call ends up in the audit log
        private volatile Object firstMessage;

        AuditingCall(ServerCall<Q, R> call, String actor, String method, String remote, boolean auditAlways)
        {
            super(call);
            this.actor = actor;
            this.method = method;
            this.remote = remote;
            this.auditAlways = auditAlways;
        }

        void noteTarget(Object message)
        {
            if (firstMessage == null) {
                firstMessage = message;
            }
        }

        @Override
        public void close(Status status, Metadata trailers)
        {
            if (auditAlways || AUDITED_REFUSALS.contains(status.getCode())) {
                String outcome = status.isOk() ? "OK" : status.getCode().name();
                Object message = firstMessage;
                String target = message == null ? "" : target(message);
                audit.record(new AuditEntry(0, clock.instant(), actor, method, target, outcome, status.getDescription() == null ? "" : status.getDescription(), remote));
            }
            super.close(status, trailers);
        }
    }
}
