package dev.tranche.scheduler.server;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class SchedulerConfigTest
{
    private static final Path USER_HOME = Path.of("/home/ada");

    @Test
    void defaults()
    {
        SchedulerConfig config = SchedulerConfig.fromEnvironment(Map.of(), USER_HOME);
        assertThat(config.home()).isEqualTo(USER_HOME.resolve(".tranche"));
        assertThat(config.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(config.grpcPort()).isEqualTo(50051);
        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.databaseUrl()).isEmpty();
        assertThat(config.databaseUser()).isEmpty();
        assertThat(config.databasePassword()).isEmpty();
        assertThat(config.databasePoolSize()).isEqualTo(16);
        assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void environmentMapping()
    {
        SchedulerConfig config = SchedulerConfig.fromEnvironment(Map.of(
                "TRANCHE_HOME", "/var/lib/tranche",
                "TRANCHE_DB_URL", "jdbc:postgresql://db:5432/tranche",
                "TRANCHE_DB_USER", "tranche",
                "TRANCHE_DB_PASSWORD", "s3cret"), USER_HOME);
        assertThat(config.home()).isEqualTo(Path.of("/var/lib/tranche"));
        assertThat(config.databaseUrl()).contains("jdbc:postgresql://db:5432/tranche");
        assertThat(config.databaseUser()).contains("tranche");
        assertThat(config.databasePassword()).contains("s3cret");
        assertThat(config.toString()).doesNotContain("s3cret");
    }

    @Test
    void flagsWinOverEnvironment()
    {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--home", "/srv/tranche", "--bind", "127.0.0.1", "--grpc-port", "6000", "--http-port", "6001",
                "--db-url", "jdbc:postgresql://other/db?password=hunter2", "--db-user", "admin", "--db-pool-size", "4");
        SchedulerConfig config = command.config();
        assertThat(config.home()).isEqualTo(Path.of("/srv/tranche"));
        assertThat(config.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(config.grpcPort()).isEqualTo(6000);
        assertThat(config.httpPort()).isEqualTo(6001);
        assertThat(config.databaseUrl()).contains("jdbc:postgresql://other/db?password=hunter2");
        assertThat(config.databaseUser()).contains("admin");
        assertThat(config.databasePoolSize()).isEqualTo(4);
        assertThat(config.toString()).doesNotContain("hunter2").contains("password=***");
    }

    @Test
    void refusesBadValuesNamingTheFlag()
    {
        SchedulerConfig config = SchedulerConfig.fromEnvironment(Map.of(), USER_HOME);
        assertThatThrownBy(() -> config.withPorts(70_000, 8080)).hasMessage("--grpc-port must be in [0, 65535]: got 70000");
        assertThatThrownBy(() -> config.withPorts(9000, 9000)).hasMessage("--grpc-port and --http-port must differ: both are 9000");
        assertThatThrownBy(() -> config.withDatabasePoolSize(0)).hasMessage("--db-pool-size must be in [1, 500]: got 0");
        assertThatThrownBy(() -> config.withBindAddress(" ")).hasMessage("--bind must be an address such as 0.0.0.0 or 127.0.0.1");
        assertThatThrownBy(() -> config.withDatabase(Optional.of("jdbc:mysql://db/x?password=pw"), Optional.empty(), Optional.empty()))
                .hasMessage("--db-url must be a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB): got jdbc:mysql://db/x?password=***");
        assertThatThrownBy(() -> config.withDatabase(Optional.empty(), Optional.of("someone"), Optional.empty()))
                .hasMessage("--db-user and a database password only apply with --db-url");
    }

    @Test
    void streamLimitsFromFlagsEachDefaultingAlone()
    {
        SchedulerConfig defaults = SchedulerConfig.fromEnvironment(Map.of(), USER_HOME);
        assertThat(defaults.security().maxWatchesPerToken()).isEqualTo(64);
        assertThat(defaults.security().maxConcurrentExports()).isEqualTo(4);

        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--max-watches-per-token", "8");
        assertThat(command.config().security().maxWatchesPerToken()).isEqualTo(8);
        assertThat(command.config().security().maxConcurrentExports()).isEqualTo(4);

        ServerCommand exports = new ServerCommand();
        new CommandLine(exports).parseArgs("--max-concurrent-exports", "1");
        assertThat(exports.config().security().maxWatchesPerToken()).isEqualTo(64);
        assertThat(exports.config().security().maxConcurrentExports()).isEqualTo(1);

        ServerCommand none = new ServerCommand();
        new CommandLine(none).parseArgs("--max-watches-per-token", "0");
        assertThatThrownBy(none::config).hasMessage("--max-watches-per-token must be in [1, 100000]: got 0");
        ServerCommand tooMany = new ServerCommand();
        new CommandLine(tooMany).parseArgs("--max-concurrent-exports", "5000");
        assertThatThrownBy(tooMany::config).hasMessage("--max-concurrent-exports must be in [1, 1000]: got 5000");
    }

    @Test
    void kubernetesTakesItsSettingsFromTheWorkerSettingsAndExcludesOtherInventories()
    {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--kubernetes", "--kubernetes-namespace", "ml");
        assertThat(command.config().kubernetes()).hasValueSatisfying(settings -> {
            assertThat(settings.namespace()).isEqualTo("ml");
            assertThat(settings.checkpointRoot()).startsWith("/");
        });
        ServerCommand both = new ServerCommand();
        new CommandLine(both).parseArgs("--kubernetes", "--local-nodes", "2");
        assertThatThrownBy(both::config).hasMessage("--kubernetes takes its nodes from the cluster: leave out --local-nodes and --detect-gpus");
        ServerCommand badNamespace = new ServerCommand();
        new CommandLine(badNamespace).parseArgs("--kubernetes", "--kubernetes-namespace", "Not_A_Label");
        assertThatThrownBy(badNamespace::config).hasMessage("--kubernetes-namespace must be a DNS label: got \"Not_A_Label\"");
    }

    @Test
    void badFlagIsAUsageError()
    {
        ServerCommand command = new ServerCommand();
        CommandLine commandLine = new CommandLine(command);
        commandLine.parseArgs("--grpc-port", "-1");
        assertThatThrownBy(command::config)
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessage("--grpc-port must be in [0, 65535]: got -1");
    }

    @Test
    void schedulingPaceFromFlagsWithDefaultsOtherwise()
    {
        assertThat(SchedulerConfig.fromEnvironment(Map.of(), USER_HOME).scheduling()).isEqualTo(SchedulingSettings.DEFAULTS);
        assertThat(SchedulingSettings.DEFAULTS.cycleInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(SchedulingSettings.DEFAULTS.cycleGap()).isEqualTo(Duration.ofMillis(200));
        assertThat(SchedulingSettings.DEFAULTS.starvationAge()).isEqualTo(Duration.ofMinutes(5));
        assertThat(SchedulingSettings.DEFAULTS.preemptionGrace()).isEqualTo(Duration.ofSeconds(60));
        assertThat(SchedulingSettings.DEFAULTS.startTimeout()).isEqualTo(Duration.ofMinutes(10));

        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--cycle-interval", "2s", "--cycle-gap", "50ms", "--starvation-age", "1h", "--preemption-grace", "2m30s",
                "--start-timeout", "30m");
        SchedulingSettings scheduling = command.config().scheduling();
        assertThat(scheduling.cycleInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(scheduling.cycleGap()).isEqualTo(Duration.ofMillis(50));
        assertThat(scheduling.starvationAge()).isEqualTo(Duration.ofHours(1));
        assertThat(scheduling.lineWindow()).isEqualTo(16);
        assertThat(scheduling.preemptionGrace()).isEqualTo(Duration.ofSeconds(150));
        assertThat(scheduling.startTimeout()).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void aBadPaceNamesTheFlagAndTheRule()
    {
        assertThatThrownBy(() -> configFrom("--cycle-interval", "fast")).hasMessage("--cycle-interval must be a duration such as 200ms, 45s, 5m, 12h, 30d or 1d12h (units ms, s, m, h, d, w): got 'fast'");
        assertThatThrownBy(() -> configFrom("--cycle-interval", "20ms")).hasMessage("--cycle-interval must be between 100ms and 10m: got 20ms");
        assertThatThrownBy(() -> configFrom("--cycle-gap", "2s")).hasMessage("--cycle-gap must be between 10ms and --cycle-interval (1s): got 2s");
        assertThatThrownBy(() -> configFrom("--starvation-age", "0s")).hasMessage("--starvation-age must be between 1s and 720h: got 0s");
        assertThatThrownBy(() -> configFrom("--preemption-grace", "2h")).hasMessage("--preemption-grace must be between 1s and 1h (a worker checkpoints within it): got 2h");
        assertThatThrownBy(() -> configFrom("--start-timeout", "5s")).hasMessage("--start-timeout must be between 10s and 24h: got 5s");
        assertThatThrownBy(() -> configFrom("--usage-retention", "12h")).hasMessage("--usage-retention must be between 1d and 3650d: got 12h");
        assertThat(configFrom("--usage-retention", "30d").usageRetention()).isEqualTo(Duration.ofDays(30));
        assertThat(SchedulerConfig.fromEnvironment(Map.of(), USER_HOME).usageRetention()).isEqualTo(Duration.ofDays(90));
    }

    /** The default gap was checked against a new, shorter interval before the given gap was applied. */
    @Test
    void aShorterIntervalAndAGapWithinItAreAppliedTogether()
    {
        SchedulingSettings scheduling = configFrom("--cycle-interval", "150ms", "--cycle-gap", "100ms").scheduling();
        assertThat(scheduling.cycleInterval()).isEqualTo(Duration.ofMillis(150));
        assertThat(scheduling.cycleGap()).isEqualTo(Duration.ofMillis(100));
        assertThat(configFrom("--cycle-gap", "100ms", "--cycle-interval", "150ms").scheduling().cycleGap()).isEqualTo(Duration.ofMillis(100));
        assertThatThrownBy(() -> configFrom("--cycle-interval", "150ms", "--cycle-gap", "200ms"))
                .hasMessage("--cycle-gap must be between 10ms and --cycle-interval (150ms): got 200ms");
        // the default gap (200ms) is longer than that interval: it follows it down rather than refuse an option not given
        assertThat(configFrom("--cycle-interval", "150ms").scheduling().cycleGap()).isEqualTo(Duration.ofMillis(150));
    }

    /**
     * A new attempt may wait up to the preemption grace for the previous attempt's workers to
     * checkpoint, inside its start timeout: a timeout no longer than the grace would fail attempts
     * that were only waiting their turn.
     */
    @Test
    void theStartTimeoutIsLongerThanThePreemptionGrace()
    {
        assertThatThrownBy(() -> configFrom("--preemption-grace", "30m", "--start-timeout", "20m"))
                .hasMessage("--start-timeout (20m) must be longer than --preemption-grace (30m): a new attempt may wait that long for the previous one's workers to checkpoint; raise --start-timeout or lower --preemption-grace");
        SchedulingSettings both = configFrom("--start-timeout", "1h", "--preemption-grace", "30m").scheduling();
        assertThat(both.startTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(both.preemptionGrace()).isEqualTo(Duration.ofMinutes(30));
        // a grace at or above the default timeout (10m), given alone: the default follows it up rather than refuse an option not given
        assertThat(configFrom("--preemption-grace", "30m").scheduling().startTimeout()).isEqualTo(Duration.ofMinutes(40));
        assertThat(configFrom("--preemption-grace", "5m").scheduling().startTimeout()).isEqualTo(Duration.ofMinutes(10));
    }

    private static SchedulerConfig configFrom(String... arguments)
    {
        ServerCommand command = new ServerCommand();
        CommandLine commandLine = new CommandLine(command);
        commandLine.parseArgs(arguments);
        return command.config();
    }
}
