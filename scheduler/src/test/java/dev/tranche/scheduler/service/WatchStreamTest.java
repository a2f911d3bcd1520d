package dev.tranche.scheduler.service;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Flow control of watch streams, with a hand-written call whose readiness the test controls. */
final class WatchStreamTest
{
    @Test
    void sendsOnlyWhileTheClientIsReadyAndResumesInOrder()
    {
        FakeCall call = new FakeCall();
        AtomicInteger finished = new AtomicInteger();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 100);
        stream.onFinish(finished::incrementAndGet);
        call.ready = false;
        stream.send("a");
        stream.send("b");
        assertThat(call.sent).isEmpty();
        call.becomeReady();
        assertThat(call.sent).containsExactly("a", "b");
        stream.send("c");
        stream.complete();
        assertThat(call.sent).containsExactly("a", "b", "c");
        assertThat(call.completed).isTrue();
        assertThat(finished).hasValue(1);
        stream.send("after the end");
        assertThat(call.sent).containsExactly("a", "b", "c");
    }

    @Test
    void aClientThatFallsTooFarBehindIsToldToWatchAgain()
    {
        FakeCall call = new FakeCall();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 3);
        call.ready = false;
        for (int i = 0; i < 10; i++) {
            stream.send("event-" + i);
        }
        call.becomeReady();
        assertThat(call.sent).isEmpty();
        assertThat(call.error).isNotNull();
        assertThat(Status.fromThrowable(call.error).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Status.fromThrowable(call.error).getDescription()).isEqualTo("the watcher fell more than 3 events behind; watch again");
    }

    @Test
    void nothingIsSentAfterTheClientCancels()
    {
        FakeCall call = new FakeCall();
        AtomicInteger finished = new AtomicInteger();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 10);
        stream.onFinish(finished::incrementAndGet);
        stream.send("a");
        stream.cancelled();
        stream.send("b");
        stream.complete();
        assertThat(call.sent).containsExactly("a");
        assertThat(call.completed).isFalse();
        assertThat(finished).hasValue(1);
    }

    /** What feeds a stream is let go however the stream ends, once: gRPC tells a cancel, not a stream the server failed. */
    @Test
    void finishActionsRunOnceWhenTheServerFailsTheStreamAndNotAgainOnALateCancel()
    {
        FakeCall call = new FakeCall();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 2);
        stream.onFinish(finished::incrementAndGet);
        stream.onFinish(released::incrementAndGet);
        call.ready = false;
        stream.send("event-0");
        stream.send("event-1");
        assertThat(released).hasValue(0);
        // the third overflows: the stream fails at once, ready or not
        stream.send("event-2");
        assertThat(call.error).isNotNull();
        assertThat(released).hasValue(1);
        stream.cancelled();
        assertThat(released).hasValue(1);
        assertThat(finished).hasValue(1);
        // added after the end: runs at once
        stream.onFinish(released::incrementAndGet);
        assertThat(released).hasValue(2);
    }

    @Test
    void finishActionsRunOnceWhenTheClientCancelsAndTheCallThenRefusesASend()
    {
        FakeCall call = new FakeCall();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 10);
        stream.onFinish(finished::incrementAndGet);
        stream.onFinish(released::incrementAndGet);
        call.error = new StatusRuntimeException(Status.CANCELLED);
        // the send meets a closed call (the cancel raced it), then the cancel handler runs
        stream.send("a");
        stream.cancelled();
        assertThat(released).hasValue(1);
        assertThat(finished).hasValue(1);
    }

    /**
     * A long list is fed a page at a time: the next page is asked for once the client has taken the
     * queue down to the mark, once, and never after the client has gone.
     */
    @Test
    void whatFeedsTheStreamAPageAtATimeIsCalledOnceTheQueueIsDownToItsMark()
    {
        FakeCall call = new FakeCall();
        AtomicInteger pages = new AtomicInteger();
        WatchStream<String> stream = new WatchStream<>(call, Runnable::run, 100);
        call.ready = false;
        for (int i = 0; i < 5; i++) {
            stream.send("event-" + i);
        }
        stream.whenQueuedAtMost(2, pages::incrementAndGet);
        assertThat(pages).hasValue(0);
        call.becomeReady();
        assertThat(call.sent).hasSize(5);
        assertThat(pages).hasValue(1);
        // at the mark already: at once
        stream.whenQueuedAtMost(2, pages::incrementAndGet);
        assertThat(pages).hasValue(2);

        call.ready = false;
        for (int i = 0; i < 5; i++) {
            stream.send("more-" + i);
        }
        stream.whenQueuedAtMost(2, pages::incrementAndGet);
        stream.cancelled();
        call.becomeReady();
        stream.whenQueuedAtMost(2, pages::incrementAndGet);
        assertThat(pages).hasValue(2);
    }

    private static final class FakeCall
            extends ServerCallStreamObserver<String>
    {
        final List<String> sent = new ArrayList<>();
        boolean ready = true;
        boolean completed;
        Throwable error;
        private Runnable onReady = () -> {};

        void becomeReady()
        {
            ready = true;
            onReady.run();
        }

        @Override
        public boolean isReady()
        {
            return ready;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler)
        {
            this.onReady = onReadyHandler;
        }

        @Override
        public void onNext(String value)
        {
            if (completed || error != null) {
                throw new IllegalStateException("call already closed");
            }
            sent.add(value);
        }

        @Override
        public void onError(Throwable t)
        {
            error = t;
        }

        @Override
        public void onCompleted()
        {
            completed = true;
        }

        @Override
        public boolean isCancelled()
        {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {}

        @Override
        public void setCompression(String compression) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}
    }
}
