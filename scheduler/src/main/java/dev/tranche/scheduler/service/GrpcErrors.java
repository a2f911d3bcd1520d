package dev.tranche.scheduler.service;

import dev.tranche.scheduler.errors.AlreadyExistsException;
import dev.tranche.scheduler.errors.AsyncFailures;
import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.errors.OverloadedException;
import dev.tranche.scheduler.errors.ShuttingDownException;
import dev.tranche.scheduler.errors.StateConflictException;
import dev.tranche.scheduler.errors.StoreException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Runs a unary call and turns domain failures into gRPC statuses with the domain's message. */
final class GrpcErrors
{
    private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

    private GrpcErrors() {}

    static <T> void unary(StreamObserver<T> observer, Supplier<T> call)
    {
        T response;
        try {
            response = call.get();
        }
        catch (RuntimeException e) {
            observer.onError(toStatus(e));
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    /**
     * {@link #unary} for a call whose answer comes later: what {@code call} throws is answered at once,
     * the future's outcome when it completes (on whichever thread completes it).
     */
    static <T> void unaryAsync(StreamObserver<T> observer, Supplier<CompletableFuture<T>> call)
    {
        CompletableFuture<T> answer;
        try {
            answer = call.get();
        }
        catch (RuntimeException e) {
            observer.onError(toStatus(e));
            return;
        }
        answer.whenComplete((response, failure) -> {
            if (failure == null) {
                observer.onNext(response);
                observer.onCompleted();
                return;
            }
            Throwable cause = AsyncFailures.cause(failure);
            // anything that is not a domain failure becomes the logged internal error, as in unary
            observer.onError(toStatus(cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause)));
        });
    }

    static StatusRuntimeException toStatus(RuntimeException e)
    {
        if (e instanceof StatusRuntimeException status) {
            return status;
        }
        if (e instanceof NotFoundException) {
            return Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof AlreadyExistsException) {
            return Status.ALREADY_EXISTS.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof StateConflictException) {
            return Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof ShuttingDownException) {
            return Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof OverloadedException) {
            return Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof StoreException store && store.unavailable().isPresent()) {
            return Status.UNAVAILABLE.withDescription(StoreException.unavailableMessage(store.unavailable().get())).asRuntimeException();
        }
        if (e instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
        log.error("internal error", e);
        return Status.INTERNAL.withDescription("internal error; the scheduler's log has the details").asRuntimeException();
    }
}
