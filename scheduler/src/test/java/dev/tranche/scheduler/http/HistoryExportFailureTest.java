package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP history export writes its answer to a file in the server's home before sending it. When
 * that fails, the request is an error and the export's stream ends with it: a server runs a few
 * exports at once, and a stream left open would hold its place until its 5-minute deadline.
 */
final class HistoryExportFailureTest
{
    /** More than one page of the export's stream (500), so the service waits for its reader between pages. */
    private static final int FINISHED = 501;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private TestingScheduler scheduler;

    @TempDir
    Path scratch;

    @BeforeEach
    void start()
    {
        // one export at a time, so one that is never given back shows at once
        scheduler = TestingScheduler.withSecurity(security -> security.withStreamLimits(4, 1));
    }

    @AfterEach
    void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void anExportThatCannotBeWrittenIsAnErrorAndGivesItsPlaceBack()
            throws Exception
    {
        TrancheClient client = scheduler.client();
        client.createProject(Project.newBuilder().setName("history").build());
        for (int i = 0; i < FINISHED; i++) {
            client.submit(Specs.named("run-" + i, "history"));
        }
        // nothing is placed here: each ran for a minute and succeeded as far as the database knows
        try (Connection connection = scheduler.dataSource().getConnection(); Statement statement = connection.createStatement()) {
            assertThat(statement.executeUpdate("INSERT INTO experiment_transitions (experiment_id, from_state, to_state, reason, at)"
                    + " SELECT id, s.from_state, s.to_state, 'moved by the test', now() + s.after"
                    + " FROM experiments CROSS JOIN (VALUES ('PENDING', 'RUNNING', interval '0 seconds'), ('RUNNING', 'SUCCEEDED', interval '60 seconds'))"
                    + " AS s (from_state, to_state, after) WHERE project = 'history'")).isEqualTo(2 * FINISHED);
            assertThat(statement.executeUpdate("UPDATE experiments SET state = 'SUCCEEDED' WHERE project = 'history'")).isEqualTo(FINISHED);
        }

        // the directory the export writes to is gone, and a file stands in its place
        Path exports = scheduler.home().resolve("exports");
        Files.delete(exports);
        Files.writeString(exports, "not a directory");
        HttpResponse<String> failed = history();
        assertThat(failed.statusCode()).isEqualTo(500);
        JsonObject error = JsonParser.parseString(failed.body()).getAsJsonObject();
        assertThat(error.get("code").getAsString()).isEqualTo("INTERNAL");
        assertThat(error.get("message").getAsString()).isEqualTo("internal error; the scheduler's log has the details");

        Files.delete(exports);
        Files.createDirectory(exports);
        // the failed export's place is free again (within moments, not at its deadline)
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> again = history();
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            assertThat(JsonParser.parseString(again.body()).getAsJsonObject().getAsJsonArray("jobs")).hasSize(FINISHED);
        });
        // and nothing of either export is left on the server's disk
        try (var left = Files.list(exports)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aServerStartingOnAHomeDeletesTheExportFilesAKilledOneLeftAndKeepsTheRest()
            throws IOException
    {
        Path exports = scratch.resolve("exports");
        Files.createDirectories(exports);
        Files.writeString(exports.resolve("tranche-history-123.csv"), "half a file");
        Files.writeString(exports.resolve("notes.txt"), "the admin's own");

        ExportFiles files = ExportFiles.in(scratch);

        assertThat(exports.resolve("tranche-history-123.csv")).doesNotExist();
        assertThat(exports.resolve("notes.txt")).hasContent("the admin's own");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(exports))).isEqualTo("rwx------");
        Path file = files.newFile(".csv");
        assertThat(file.getParent()).isEqualTo(exports);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    private HttpResponse<String> history()
            throws IOException, InterruptedException
    {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/api/v1/history?format=json"))
                .header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN)
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
