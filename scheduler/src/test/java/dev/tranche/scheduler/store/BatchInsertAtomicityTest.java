package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.ExperimentStore.NewExperiment;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.sql.DataSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A batch of submissions is stored whole or not at all: when it fails after its INSERT (here: the
 * lookup of a repeated request id), the submission writer stores the rows again one by one, so a
 * row that had already been committed would clash with itself and be stored a second time under a
 * new id.
 */
final class BatchInsertAtomicityTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void aBatchThatFailsAfterItsInsertStoresNothing()
            throws SQLException
    {
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        experiments.insert("exp-batch00001", Specs.accepted("first", "default"), Optional.of("request-1"), "submitted");

        // the real database, with the next lookup of a request id failing once (a dropped connection, say)
        ExperimentRepository failingOnce = new ExperimentRepository(failingRequestIdLookupOnce(database.dataSource()));
        List<NewExperiment> batch = List.of(
                new NewExperiment("exp-batch00002", Specs.accepted("retried", "default"), Optional.of("request-1"), "submitted"),
                new NewExperiment("exp-batch00003", Specs.accepted("fresh", "default"), Optional.empty(), "submitted"));
        assertThatThrownBy(() -> failingOnce.insertAll(batch)).isInstanceOf(StoreException.class);

        assertThat(database.count("SELECT count(*) FROM experiments WHERE id = 'exp-batch00003'")).isZero();
        assertThat(database.count("SELECT count(*) FROM experiment_transitions WHERE experiment_id = 'exp-batch00003'")).isZero();
        // what the writer does next stores it exactly once
        assertThat(experiments.insertAll(batch).stream().map(inserted -> inserted.created()).toList()).containsExactly(false, true);
        assertThat(database.count("SELECT count(*) FROM experiments WHERE name = 'fresh'")).isEqualTo(1);
    }

    private static DataSource failingRequestIdLookupOnce(DataSource real)
    {
        AtomicBoolean failed = new AtomicBoolean();
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, forward(real, (method, args) -> {
            if (method.getName().equals("getConnection")) {
                Connection connection = (Connection) method.invoke(real, args);
                return Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, forward(connection, (inner, innerArgs) -> {
                    if (inner.getName().equals("prepareStatement") && String.valueOf(innerArgs[0]).contains("request_id = ?") && failed.compareAndSet(false, true)) {
                        throw new SQLException("connection lost (injected by the test)", "08006");
                    }
                    return inner.invoke(connection, innerArgs);
                }));
            }
            return method.invoke(real, args);
        }));
    }

    private interface Call
    {
        Object invoke(java.lang.reflect.Method method, Object[] args)
                throws Throwable;
    }

    private static InvocationHandler forward(Object target, Call call)
    {
        return (proxy, method, args) -> {
            try {
                return call.invoke(method, args);
            }
            catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
    }
}
