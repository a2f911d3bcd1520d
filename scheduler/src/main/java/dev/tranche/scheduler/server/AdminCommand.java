package dev.tranche.scheduler.server;

import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.security.TokenRecord;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.scheduler.security.TokenService;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.store.EmbeddedPostgresSecrets;
import dev.tranche.scheduler.store.EmbeddedPostgresServer;
import dev.tranche.scheduler.store.SecretRepository;
import dev.tranche.scheduler.store.TokenRepository;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import javax.sql.DataSource;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** Commands run on the machine that holds a scheduler's data, with no token: the data is the authority. */
@Command(name = "admin", description = "Administration on the machine that holds the scheduler's home directory (no token needed).",
        subcommands = AdminCommand.ResetToken.class)
public final class AdminCommand
{
    @Command(name = "reset-token", description = {
            "Create a new admin token directly in the scheduler's database, for an admin locked out (the first start's token lost).",
            "Works with the scheduler stopped (it starts the embedded PostgreSQL for the moment) or running (it writes to the running one).",
            "Whoever can read the home directory can read the database files anyway: that is the authority this command relies on."})
    static final class ResetToken
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Option(names = "--home", paramLabel = "DIR", description = "The scheduler's state directory (default: $TRANCHE_HOME, else ~/.tranche).")
        Path home;

        @Option(names = "--db-url", paramLabel = "JDBC_URL", description = "The scheduler's external PostgreSQL, if it uses one (default: $TRANCHE_DB_URL). Password from $TRANCHE_DB_PASSWORD.")
        String databaseUrl;

        @Option(names = "--db-user", paramLabel = "USER", description = "User for --db-url (default: $TRANCHE_DB_USER).")
        String databaseUser;

        @Option(names = "--subject", paramLabel = "NAME", defaultValue = "admin", description = "Who the token is for (default: ${DEFAULT-VALUE}).")
        String subject;

        @Option(names = "--revoke-others", description = "Also revoke every other active admin token (a lost one may have been found by someone else).")
        boolean revokeOthers;

        @Override
        public Integer call()
        {
            SchedulerConfig config = SchedulerConfig.fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
            if (home != null) {
                config = config.withHome(home);
            }
            if (databaseUrl != null || databaseUser != null) {
                config = config.withDatabase(databaseUrl != null ? Optional.of(databaseUrl) : config.databaseUrl(),
                        databaseUser != null ? Optional.of(databaseUser) : config.databaseUser(), config.databasePassword());
            }
            TokenService.AdminReset reset = withDatabase(config, this::reset);
            PrintWriter out = spec.commandLine().getOut();
            out.println();
            out.println("  New admin token " + reset.issued().token().id() + " for " + reset.issued().token().subject() + " (shown once; keep it safe):");
            out.println();
            out.println("    " + reset.issued().secret());
            out.println();
            out.println("  Use it with: export TRANCHE_TOKEN=<token>  or  tranche login");
            for (TokenRecord revoked : reset.revoked()) {
                out.println("  Revoked admin token " + revoked.id() + " (" + revoked.subject() + ")");
            }
            if (!reset.revoked().isEmpty() && config.security().adminToken().isPresent()) {
                out.println("  Note: TRANCHE_ADMIN_TOKEN is set here; a scheduler started with it restores token " + TokenService.BOOTSTRAP_ID);
            }
            out.flush();
            return 0;
        }

        private TokenService.AdminReset reset(DataSource dataSource)
        {
            WorkerCredentials credentials = new WorkerCredentials(new SecretRepository(dataSource).secret(WorkerCredentials.SECRET_NAME));
            TokenService tokens = new TokenService(new TokenRepository(dataSource), new TokenSecrets(), credentials, project -> false, Clock.systemUTC());
            return tokens.resetAdmin("tranche admin reset-token", subject, revokeOthers);
        }

        /**
         * Runs {@code action} on the scheduler's database. With the scheduler stopped, this command
         * holds the home's lock (so no scheduler starts meanwhile) and starts the embedded PostgreSQL
         * itself; with it running, it only writes to the running PostgreSQL: PostgreSQL keeps the two
         * writers apart, while a second server on the same directory, or stopping the scheduler's,
         * would not be safe.
         */
        private static <T> T withDatabase(SchedulerConfig config, Function<DataSource, T> action)
        {
            if (config.databaseUrl().isPresent()) {
                String url = config.databaseUrl().get();
                try (Database database = Database.connect(url, config.databaseUser(), config.databasePassword(), 2, Optional.empty(), SchedulerConfig.redact(url))) {
                    return action.apply(database.dataSource());
                }
            }
            Path data = config.home().resolve("postgres");
            if (!Files.isRegularFile(data.resolve("PG_VERSION"))) {
                throw new IllegalArgumentException("no scheduler data in " + config.home() + " (no " + data + "): give the home directory of a scheduler "
                        + "that has started at least once with --home DIR (or $TRANCHE_HOME)");
            }
            Optional<HomeLock> lock = HomeLock.tryAcquire(config.home());
            if (lock.isPresent()) {
                try (HomeLock held = lock.get();
                        Database database = Database.openEmbedded(config.home(), 2)) {
                    return action.apply(database.dataSource());
                }
            }
            String url = EmbeddedPostgresServer.jdbcUrlOfRunning(data).orElseThrow(() -> new IllegalStateException(
                    "a scheduler is running with home " + config.home() + " but its database is not up (it may be restarting): retry in a few seconds"));
            PGSimpleDataSource running = new PGSimpleDataSource();
            running.setUrl(url);
            running.setUser(EmbeddedPostgresServer.APPLICATION_ROLE);
            running.setPassword(EmbeddedPostgresSecrets.loadOrCreate(Database.embeddedSecretsFile(config.home())).applicationPassword());
            running.setConnectTimeout(5);
            return action.apply(running);
        }

    }
}
