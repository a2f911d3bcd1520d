package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

import static dev.tranche.scheduler.experiment.ExperimentState.PENDING;
import static dev.tranche.scheduler.experiment.ExperimentState.RUNNING;
import static dev.tranche.scheduler.experiment.ExperimentState.SCHEDULED;
import static dev.tranche.scheduler.experiment.ExperimentState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

/** Every route answers a refused call with the service's status and message, over real HTTP on loopback. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class HttpApiErrorsTest
{
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private TestingScheduler scheduler;
    private String base;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        base = "http://127.0.0.1:" + scheduler.httpPort();
        scheduler.client().createProject(Project.newBuilder().setName("vision").build());
    }

    @AfterAll
    void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    record Answer(int status, String code, String message) {}

    private Answer call(String token, String method, String path, String body)
            throws IOException, InterruptedException
    {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(30))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() < 400) {
            return new Answer(response.statusCode(), "", "");
        }
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        JsonObject error = JsonParser.parseString(response.body()).getAsJsonObject();
        return new Answer(response.statusCode(), error.get("code").getAsString(), error.get("message").getAsString());
    }

    private Answer admin(String method, String path, String body)
            throws IOException, InterruptedException
    {
        return call(TestingScheduler.ADMIN_TOKEN, method, path, body);
    }

    @Test
    void missingObjectsAreNamedNotTakenForMissingRoutes()
            throws Exception
    {
        // today every one of these said "no such API route: ..."
        assertThat(admin("GET", "/api/v1/experiments/exp-nope12345", null))
                .isEqualTo(new Answer(404, "NOT_FOUND", "experiment exp-nope12345 does not exist"));
        assertThat(admin("PUT", "/api/v1/projects/nosuch/quota", "{\"deserved_gpus\": 1}"))
                .isEqualTo(new Answer(404, "NOT_FOUND", "project nosuch does not exist"));
        String spec = "{\"spec\": {\"name\": \"lost\", \"project\": \"nosuch\", \"model\": {\"architecture\": \"lenet\"}, \"dataset\": {\"kind\": \"mnist\"}}}";
        assertThat(admin("POST", "/api/v1/experiments", spec)).isEqualTo(new Answer(404, "NOT_FOUND", "project nosuch does not exist"));
        assertThat(admin("POST", "/api/v1/experiments/exp-nope12345/cancel", null))
                .isEqualTo(new Answer(404, "NOT_FOUND", "experiment exp-nope12345 does not exist"));
        assertThat(admin("GET", "/api/v1/experiments/exp-nope12345/metrics", null).status()).isEqualTo(404);
        assertThat(admin("GET", "/api/v1/experiments/exp-nope12345/logs", null).status()).isEqualTo(404);

        // and a route that does not exist still says so
        assertThat(admin("GET", "/api/v1/nosuch", null)).isEqualTo(new Answer(404, "NOT_FOUND", "no such API route: GET /api/v1/nosuch"));
        assertThat(admin("DELETE", "/api/v1/experiments/exp-nope12345", null).message()).startsWith("no such API route: DELETE ");
    }

    @Test
    void everyOtherRefusalKeepsItsStatusAndMessage()
            throws Exception
    {
        // 409: a finished experiment cannot be cancelled
        String id = scheduler.client().submit(Specs.named("finished", "vision")).getExperiment().getId();
        ExperimentRepository repository = new ExperimentRepository(scheduler.dataSource());
        repository.transition(id, Set.of(PENDING), SCHEDULED, "placed");
        repository.transition(id, Set.of(SCHEDULED), RUNNING, "started");
        repository.transition(id, Set.of(RUNNING), SUCCEEDED, "finished");
        assertThat(admin("POST", "/api/v1/experiments/" + id + "/cancel", "{}"))
                .isEqualTo(new Answer(409, "FAILED_PRECONDITION", "experiment " + id + " is SUCCEEDED; it cannot become CANCELLED"));

        // 403: a viewer of another project, and a viewer setting a quota
        String viewer = scheduler.token(Role.VIEWER, "default");
        assertThat(call(viewer, "GET", "/api/v1/experiments/" + id, null))
                .isEqualTo(new Answer(403, "PERMISSION_DENIED", "experiment " + id + " is not in a project this token can read"));
        Answer quota = call(viewer, "PUT", "/api/v1/projects/vision/quota", "{\"deserved_gpus\": 1}");
        assertThat(quota.status()).isEqualTo(403);
        assertThat(quota.code()).isEqualTo("PERMISSION_DENIED");

        // 400: the validator's message
        String bad = "{\"spec\": {\"name\": \"bad\", \"project\": \"vision\", \"model\": {\"architecture\": \"lenet\"}, \"dataset\": {\"kind\": \"mnist\"},"
                + " \"training\": {\"epochs\": 0}}}";
        assertThat(admin("POST", "/api/v1/experiments", bad))
                .isEqualTo(new Answer(400, "INVALID_ARGUMENT", "training.epochs must be in [1, 1000]: got 0 (leave it out for the default, 10)"));

        // 401
        assertThat(call("not-a-token", "GET", "/api/v1/experiments", null).status()).isEqualTo(401);
    }

    @Test
    void everyGrpcStatusHasOneHttpStatus()
    {
        for (Status.Code code : Status.Code.values()) {
            assertThat(HttpErrors.httpStatus(code)).as(code.name()).isBetween(200, 599);
        }
        assertThat(HttpErrors.httpStatus(Status.Code.NOT_FOUND)).isEqualTo(404);
        assertThat(HttpErrors.httpStatus(Status.Code.ALREADY_EXISTS)).isEqualTo(409);
        assertThat(HttpErrors.httpStatus(Status.Code.FAILED_PRECONDITION)).isEqualTo(409);
        assertThat(HttpErrors.httpStatus(Status.Code.PERMISSION_DENIED)).isEqualTo(403);
        assertThat(HttpErrors.httpStatus(Status.Code.INVALID_ARGUMENT)).isEqualTo(400);
        assertThat(HttpErrors.httpStatus(Status.Code.RESOURCE_EXHAUSTED)).isEqualTo(429);
        assertThat(HttpErrors.httpStatus(Status.Code.UNAVAILABLE)).isEqualTo(503);
        assertThat(HttpErrors.httpStatus(Status.Code.DEADLINE_EXCEEDED)).isEqualTo(504);
    }

    @Test
    void theEventStreamWantsToBeAskedForAsOne()
            throws Exception
    {
        // today: an empty 200
        assertThat(admin("GET", "/api/v1/events", null)).isEqualTo(new Answer(406, "NOT_ACCEPTABLE",
                "/api/v1/events is a stream of Server-Sent Events: send \"Accept: text/event-stream\" (a browser's EventSource does)"));

        HttpRequest stream = HttpRequest.newBuilder(URI.create(base + "/api/v1/events"))
                .header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN)
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30))
                .build();
        HttpResponse<InputStream> response = http.send(stream, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/event-stream"));
        }
    }
}
