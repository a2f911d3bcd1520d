package dev.tranche.scheduler.experiment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Tells watchers about committed changes, in the thread that committed them. Listeners must not
 * block: a watch stream queues what it receives and sends it on its own.
 */
public final class ExperimentEventBus
{
    private static final Logger log = LoggerFactory.getLogger(ExperimentEventBus.class);

    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    public Subscription subscribe(Predicate<ExperimentChange> filter, Consumer<ExperimentChange> listener)
    {
        Subscription subscription = new Subscription(requireNonNull(filter, "filter is null"), requireNonNull(listener, "listener is null"));
        subscriptions.add(subscription);
        return subscription;
    }

    /**
     * Tells every subscriber whose filter takes the change. A subscriber that fails is logged and
     * skipped: the change is already stored, and its writer (a submission's answer among them) must
     * not report it as failed, nor the other subscribers miss it.
     */
    public void publish(ExperimentChange change)
    {
        for (Subscription subscription : subscriptions) {
            try {
                if (subscription.filter.test(change)) {
                    subscription.listener.accept(change);
                }
            }
            catch (RuntimeException e) {
                log.error("a subscriber to experiment changes failed on {}", change.experiment().id(), e);
            }
        }
    }

    public final class Subscription
            implements AutoCloseable
    {
        private final Predicate<ExperimentChange> filter;
        private final Consumer<ExperimentChange> listener;

        private Subscription(Predicate<ExperimentChange> filter, Consumer<ExperimentChange> listener)
        {
            this.filter = filter;
            this.listener = listener;
        }

        @Override
        public void close()
        {
            subscriptions.remove(this);
        }
    }
}
