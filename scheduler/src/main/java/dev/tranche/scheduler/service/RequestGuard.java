package dev.tranche.scheduler.service;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The edge every request crosses before a service sees it. A message that is not valid protobuf gets
 * INVALID_ARGUMENT (gRPC itself would answer UNKNOWN), and a text field holding what PostgreSQL
 * cannot store or what no name needs (NUL, control characters) or an identifier longer than any
 * Tranche makes is refused with its field path, before any lookup.
 */
public final class RequestGuard
{
    static final int MAX_IDENTIFIER = 128;
    static final int MAX_TEXT = 64 * 1024;
    private static final int ECHO = 40;
    /** Fields that name something: one line, no control characters at all, and short. */
    private static final Set<String> IDENTIFIERS = Set.of("id", "experiment_id", "project", "projects", "department", "subject", "name", "names",
            "page_token", "request_id", "created_by", "architecture", "kind", "optimizer", "priority", "model", "models", "data_parallelism");
    private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);

    private RequestGuard() {}

    /**
     * {@code service} behind {@code interceptors} (the last runs first, as in {@link ServerInterceptors#intercept}),
     * the text check after them, and message parsing moved in front of them where its failure can be answered.
     */
    public static ServerServiceDefinition guard(ServerServiceDefinition service, ServerInterceptor... interceptors)
    {
        ServerInterceptor[] chain = new ServerInterceptor[interceptors.length + 1];
        chain[0] = new TextCheck();
        System.arraycopy(interceptors, 0, chain, 1, interceptors.length);
        ServerServiceDefinition typed = ServerInterceptors.intercept(service, chain);
        // messages reach the chain as bytes and are parsed inside it, so a parse failure surfaces here
        return ServerInterceptors.intercept(ServerInterceptors.useInputStreamMessages(typed), new ParseCheck());
    }

    /** The first text field of {@code message} that breaks a rule, as a sentence naming its path. */
    public static Optional<String> violation(Message message)
    {
        return violation(message, "");
    }

    private static Optional<String> violation(Message message, String prefix)
    {
        for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
            FieldDescriptor field = entry.getKey();
            String path = prefix + field.getName();
            if (field.isMapField()) {
                for (Object item : (List<?>) entry.getValue()) {
                    Message pair = (Message) item;
                    FieldDescriptor keyField = pair.getDescriptorForType().findFieldByNumber(1);
                    FieldDescriptor valueField = pair.getDescriptorForType().findFieldByNumber(2);
                    Object key = pair.getField(keyField);
                    Optional<String> bad = key instanceof String text ? check(path + " key", text, true) : Optional.empty();
                    String itemPath = path + "[\"" + echo(String.valueOf(key)) + "\"]";
                    bad = bad.or(() -> value(valueField, pair.getField(valueField), itemPath, field.getName()));
                    if (bad.isPresent()) {
                        return bad;
                    }
                }
            }
            else if (field.isRepeated()) {
                List<?> items = (List<?>) entry.getValue();
                for (int i = 0; i < items.size(); i++) {
                    Optional<String> bad = value(field, items.get(i), path + "[" + i + "]", field.getName());
                    if (bad.isPresent()) {
                        return bad;
                    }
                }
            }
            else {
                Optional<String> bad = value(field, entry.getValue(), path, field.getName());
                if (bad.isPresent()) {
                    return bad;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> value(FieldDescriptor field, Object value, String path, String name)
    {
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            return violation((Message) value, path + ".");
        }
        if (field.getJavaType() == FieldDescriptor.JavaType.STRING) {
            return check(path, (String) value, IDENTIFIERS.contains(name));
        }
        return Optional.empty();
    }

    private static Optional<String> check(String path, String text, boolean identifier)
    {
        int limit = identifier ? MAX_IDENTIFIER : MAX_TEXT;
        if (text.length() > limit) {
            return Optional.of(path + " must be at most " + limit + " characters: got " + text.length() + " starting \"" + echo(text) + "\"");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean allowedInText = !identifier && (c == '\n' || c == '\t' || c == '\r');
            if (Character.isISOControl(c) && !allowedInText) {
                return Optional.of(path + " must not contain control characters (" + String.format("U+%04X", (int) c) + " at position " + i
                        + (identifier ? "; a name is one line of printable text" : "") + "): got \"" + echo(text) + "\"");
            }
        }
        return Optional.empty();
    }

    /** At most a short, printable prefix of what a caller sent, for error messages. */
    public static String echo(String text)
    {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < ECHO; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return out.length() < text.length() ? out + "..." : out.toString();
    }

    /** Refuses a message with a broken text field, and anything after it on the same call. */
    private static final class TextCheck
            implements ServerInterceptor
    {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next)
        {
            return new Closable<>(call, next.startCall(call, headers))
            {
                @Override
                public void onMessage(Q message)
                {
                    if (closed) {
                        return;
                    }
                    Optional<String> bad = message instanceof Message proto ? violation(proto) : Optional.empty();
                    if (bad.isPresent()) {
                        close(Status.INVALID_ARGUMENT.withDescription(bad.get()));
                        return;
                    }
                    super.onMessage(message);
                }
            };
        }
    }

    /** Answers a message that does not parse, and a failure no service turned into a status, instead of gRPC's UNKNOWN. */
    private static final class ParseCheck
            implements ServerInterceptor
    {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next)
        {
            String method = call.getMethodDescriptor().getFullMethodName();
            return new Closable<>(call, next.startCall(call, headers))
            {
                @Override
                public void onMessage(Q message)
                {
                    if (closed) {
                        return;
                    }
                    try {
                        super.onMessage(message);
                    }
                    catch (RuntimeException e) {
                        if (causedByBadProtobuf(e)) {
                            close(Status.INVALID_ARGUMENT.withDescription("the request to " + method.substring(method.lastIndexOf('/') + 1)
                                    + " is not a valid protobuf message (truncated, or fields of the wrong type)"));
                        }
                        else {
                            log.error("internal error in {}", method, e);
                            close(Status.INTERNAL.withDescription("internal error; the scheduler's log has the details"));
                        }
                    }
                }

                @Override
                public void onHalfClose()
                {
                    if (closed) {
                        return;
                    }
                    try {
                        super.onHalfClose();
                    }
                    catch (RuntimeException e) {
                        log.error("internal error in {}", method, e);
                        close(Status.INTERNAL.withDescription("internal error; the scheduler's log has the details"));
                    }
                }
            };
        }

        private static boolean causedByBadProtobuf(Throwable e)
        {
            for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
                if (cause instanceof InvalidProtocolBufferException) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A listener that can end its call early and then ignores what the client still sends. */
    private abstract static class Closable<Q, R>
            extends SimpleForwardingServerCallListener<Q>
    {
        private final ServerCall<Q, R> call;
        protected boolean closed;

        Closable(ServerCall<Q, R> call, ServerCall.Listener<Q> delegate)
        {
            super(delegate);
            this.call = call;
        }

        protected void close(Status status)
        {
            closed = true;
            call.close(status, new Metadata());
        }

        @Override
        public void onHalfClose()
        {
            if (!closed) {
                super.onHalfClose();
            }
        }
    }
}
