package dev.tranche.scheduler.server;

import dev.tranche.cli.Tranche;
import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Token;
import dev.tranche.scheduler.testing.SchedulerProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A scheduler's first start shows the one admin token: a start that fails (a port in use) must not
 * use it up, and an admin who lost it gets a new one with {@code tranche admin reset-token} on the
 * machine that holds the home directory, the scheduler stopped or running.
 */
final class FirstStartTest
{
    private static final Pattern FIRST_TOKEN = Pattern.compile("Admin token \\(shown once[^\\n]*\\n\\s*\\n\\s+(\\S+)");
    private static final Pattern RESET_TOKEN = Pattern.compile("New admin token (tok-\\S+) for (\\S+) \\(shown once[^\\n]*\\n\\s*\\n\\s+(\\S+)");

    @TempDir
    Path dir;

    @Test
    void aFirstStartThatFailsLeavesTheAdminTokenToTheNextStart()
            throws Exception
    {
        Path home = dir.resolve("home");
        int grpcPort = SchedulerProcess.freePort();
        try (ServerSocket busy = new ServerSocket(grpcPort, 1, InetAddress.getLoopbackAddress())) {
            SchedulerProcess failed = SchedulerProcess.start(home, grpcPort, SchedulerProcess.freePort(), dir.resolve("failed.log"), Map.of());
            assertThat(failed.process().waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(failed.process().exitValue()).as(failed.output()).isNotZero();
            assertThat(failed.output()).contains("cannot listen for gRPC on 127.0.0.1:" + grpcPort).doesNotContain("Admin token");
        }

        try (SchedulerProcess scheduler = SchedulerProcess.start(home, SchedulerProcess.freePort(), SchedulerProcess.freePort(), dir.resolve("second.log"), Map.of())
                .awaitServing(Duration.ofSeconds(120))) {
            String token = firstToken(scheduler);
            try (TrancheClient client = client(scheduler, token)) {
                Token admin = client.whoAmI();
                assertThat(admin.getSubject()).isEqualTo("admin");
                assertThat(admin.getRole().name()).isEqualTo("ADMIN");
            }
        }
    }

    @Test
    void resetTokenGivesANewAdminTokenWithTheSchedulerRunningOrStopped()
            throws Exception
    {
        Path home = dir.resolve("home");
        assertThat(resetToken(home, "--revoke-others").exitCode()).as("no scheduler data there yet").isEqualTo(2);

        String lost;
        try (SchedulerProcess scheduler = SchedulerProcess.start(home, SchedulerProcess.freePort(), SchedulerProcess.freePort(), dir.resolve("first.log"), Map.of())
                .awaitServing(Duration.ofSeconds(120))) {
            lost = firstToken(scheduler);
            try (TrancheClient client = client(scheduler, lost)) {
                assertThat(client.whoAmI().getSubject()).isEqualTo("admin");
            }

            // running: written into the running scheduler's database, usable at once; the lost one stops working
            Result running = resetToken(home, "--revoke-others", "--subject", "admin-2");
            assertThat(running.exitCode()).as(running.output()).isZero();
            Matcher issued = RESET_TOKEN.matcher(running.output());
            assertThat(issued.find()).as(running.output()).isTrue();
            assertThat(issued.group(2)).isEqualTo("admin-2");
            assertThat(running.output()).contains("Revoked admin token");
            try (TrancheClient client = client(scheduler, issued.group(3))) {
                assertThat(client.whoAmI().getSubject()).isEqualTo("admin-2");
            }
            try (TrancheClient client = client(scheduler, lost)) {
                // the scheduler caches a checked token for a few seconds
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> assertThatThrownBy(client::whoAmI)
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED)));
            }
        }

        // stopped: it starts the embedded PostgreSQL for the moment, and the next start lets the new token in
        Result stopped = resetToken(home);
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        Matcher issued = RESET_TOKEN.matcher(stopped.output());
        assertThat(issued.find()).as(stopped.output()).isTrue();
        try (SchedulerProcess scheduler = SchedulerProcess.start(home, SchedulerProcess.freePort(), SchedulerProcess.freePort(), dir.resolve("third.log"), Map.of())
                .awaitServing(Duration.ofSeconds(120))) {
            assertThat(scheduler.output()).doesNotContain("Admin token");
            try (TrancheClient client = client(scheduler, issued.group(3))) {
                assertThat(client.whoAmI().getSubject()).isEqualTo("admin");
            }
        }
    }

    private record Result(int exitCode, String output) {}

    private static Result resetToken(Path home, String... options)
    {
        StringWriter out = new StringWriter();
        CommandLine commandLine = Tranche.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(out, true));
        String[] arguments = new String[options.length + 4];
        arguments[0] = "admin";
        arguments[1] = "reset-token";
        arguments[2] = "--home";
        arguments[3] = home.toString();
        System.arraycopy(options, 0, arguments, 4, options.length);
        int code = commandLine.execute(arguments);
        return new Result(code, out.toString());
    }

    private static String firstToken(SchedulerProcess scheduler)
    {
        Matcher matcher = FIRST_TOKEN.matcher(scheduler.output());
        assertThat(matcher.find()).as("the start printed the admin token:\n" + scheduler.output()).isTrue();
        return matcher.group(1);
    }

    private static TrancheClient client(SchedulerProcess scheduler, String token)
    {
        return TrancheClient.connect(ConnectionSettings.plaintext("127.0.0.1:" + scheduler.grpcPort()).withToken(token));
    }
}
