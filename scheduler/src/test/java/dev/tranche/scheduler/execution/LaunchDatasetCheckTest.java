package dev.tranche.scheduler.execution;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.scheduler.backend.local.LocalProcessBackend;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.GangPortRepository;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Workers on the scheduler's machine read the data set as its OS user, so the allowed folders are
 * checked again when they launch: a location accepted because it did not exist yet can be made a
 * link to anywhere before the experiment is placed, and the check at submit cannot see that.
 */
final class LaunchDatasetCheckTest
{
    @TempDir
    Path files;

    private TestingScheduler scheduler;
    private TrancheClient client;
    private LocalProcessBackend backend;
    private ExecutionController controller;
    private Path datasets;

    @BeforeEach
    void start()
            throws IOException
    {
        scheduler = new TestingScheduler(Optional.of(DeclaredInventory.of(1, 1, 24 * 1024)));
        client = scheduler.client();
        // the default allowed folders include the home's datasets/
        datasets = Files.createDirectories(scheduler.home().resolve("datasets"));
        Path worker = Files.writeString(files.resolve("worker.sh"), "#!/bin/sh\necho launched\n");
        Files.setPosixFilePermissions(worker, PosixFilePermissions.fromString("rwxr-xr-x"));
        backend = new LocalProcessBackend(files.resolve("workers"), List.of(worker.toString()));
        controller = new ExecutionController(backend, new ClusterRepository(scheduler.dataSource()), new ExperimentRepository(scheduler.dataSource()),
                new ExperimentEventBus(), new WorkerCredentials(new byte[32]), "127.0.0.1:50051", Duration.ofSeconds(5), node -> true,
                new GangPortRepository(scheduler.dataSource()), Optional.of(DatasetRoots.defaults(scheduler.home())));
    }

    @AfterEach
    void stop()
    {
        backend.stopAllAndWait(Duration.ofSeconds(5));
        scheduler.close();
    }

    @Test
    void aLocationThatBecameALinkOutsideTheAllowedFoldersIsNotLaunched()
            throws IOException
    {
        Path later = datasets.resolve("later");
        String id = client.submit(withLocation("swapped", later)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        // accepted while it did not exist; now it leads to the machine's own files
        Files.createSymbolicLink(later, Path.of("/etc"));

        controller.reconcile();

        Experiment failed = client.get(id);
        assertThat(failed.getState()).isEqualTo(ExperimentState.FAILED);
        assertThat(failed.getReason()).startsWith("not launched: dataset.location must be inside a folder the admin allows for data sets")
                .contains("checked again at launch");
        assertThat(backend.workers()).isEmpty();
        assertThat(scheduler.count("SELECT coalesce(sum(used_milli), 0) FROM gpus")).isZero();
    }

    @Test
    void aLocationStillInsideTheAllowedFoldersIsLaunched()
            throws IOException
    {
        Path data = Files.createDirectories(datasets.resolve("images"));
        String id = client.submit(withLocation("kept", data)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);

        controller.reconcile();

        await().atMost(Duration.ofSeconds(10)).until(() -> backend.logTail(id, 0, 5).contains("launched"));
        assertThat(client.get(id).getState()).isNotEqualTo(ExperimentState.FAILED);
    }

    private static ExperimentSpec withLocation(String name, Path location)
    {
        return Specs.named(name, "default").toBuilder().setDataset(DatasetSpec.newBuilder().setKind("image-folder").setLocation(location.toString())).build();
    }
}
