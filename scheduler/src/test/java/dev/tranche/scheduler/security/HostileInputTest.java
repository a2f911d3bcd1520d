package dev.tranche.scheduler.security;

import com.google.protobuf.Message;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.CreateDepartmentRequest;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetLogsRequest;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GetQuotaRequest;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.RevokeTokenRequest;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import dev.tranche.spec.ExperimentSpecFiles;
import dev.tranche.spec.ExperimentSpecValidator;
import dev.tranche.spec.InvalidSpecException;
import dev.tranche.spec.SpecFormatException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hundreds of invalid and hostile inputs over gRPC, HTTP and spec files, generated and hand-written.
 * Each must get a specific refusal (never INTERNAL, UNKNOWN or a 5xx), with no stack trace or class
 * name in its message, within 5 seconds; nothing refused is stored, and the server's heap does not
 * grow by more than {@link #HEAP_BOUND} over the whole suite.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class HostileInputTest
{
    private static final long HEAP_BOUND = 64L * 1024 * 1024;
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(5);
    private static final Set<Status.Code> SPECIFIC = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS,
            Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE, Status.Code.PERMISSION_DENIED);
    /** Strings no identifier or text field should trip over. */
    private static final List<String> HOSTILE = List.of("\u0000", "exp-\u0000", "a\u0000b", "\u0007bell", "\u001b[2J\u001b[31mred", "\r\n", "line\nbreak",
            "\u007f", "\u0085", "x".repeat(129), "y".repeat(10_000), "../../etc/passwd", "%00", "' OR '1'='1' --", "<script>alert(1)</script>",
            "${jndi:ldap://127.0.0.1/a}", "\ud83d\ude00", "\u202eevil", " ", "");

    private TestingScheduler scheduler;
    private TrancheClient client;
    private ManagedChannel channel;
    private Channel admin;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> problems = new ArrayList<>();
    private int cases;
    private long heapBefore;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        client = scheduler.client();
        client.createProject(Project.newBuilder().setName("vision").build());
        channel = ManagedChannelBuilder.forTarget(scheduler.target()).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + TestingScheduler.ADMIN_TOKEN);
        admin = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        heapBefore = SecurityHardeningTest.usedHeapAfterGc();
    }

    @AfterAll
    void stop()
    {
        long growth = SecurityHardeningTest.usedHeapAfterGc() - heapBefore;
        channel.shutdownNow();
        scheduler.close();
        System.out.printf("hostile inputs tried: %d; heap growth over the suite: %d MiB (bound %d MiB)%n", cases, growth >> 20, HEAP_BOUND >> 20);
        assertThat(growth).as("heap growth over the suite").isLessThan(HEAP_BOUND);
        assertThat(cases).as("hostile inputs tried").isGreaterThanOrEqualTo(400);
    }

    @Test
    void hostileTextInEveryIdentifierAndTextField()
    {
        List<Function<String, Supplier<Message>>> calls = List.of(
                text -> () -> experiments().get(GetExperimentRequest.newBuilder().setId(text).build()),
                text -> () -> experiments().cancel(CancelExperimentRequest.newBuilder().setId(text).build()),
                text -> () -> experiments().cancel(CancelExperimentRequest.newBuilder().setId("exp-nope000000").setReason(text).build()),
                text -> () -> experiments().getLogs(GetLogsRequest.newBuilder().setId(text).build()),
                text -> () -> experiments().list(ListExperimentsRequest.newBuilder().setProject(text).build()),
                text -> () -> experiments().list(ListExperimentsRequest.newBuilder().setPageToken(text).build()),
                text -> () -> experiments().submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.example()).setRequestId(text + "\u0000").build()),
                text -> () -> metrics().get(GetMetricsRequest.newBuilder().setExperimentId(text).build()),
                text -> () -> metrics().get(GetMetricsRequest.newBuilder().setExperimentId("exp-nope000000").addNames(text).build()),
                text -> () -> adminService().createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName(text)).build()),
                text -> () -> adminService().createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName("p-" + Math.abs(text.hashCode()))
                        .setDepartment(text)).build()),
                text -> () -> adminService().setQuota(SetQuotaRequest.newBuilder().setProject(text).setQuota(Quota.newBuilder().setDeservedGpus(1)).build()),
                text -> () -> adminService().getQuota(GetQuotaRequest.newBuilder().setProject(text).build()),
                text -> () -> adminService().createDepartment(CreateDepartmentRequest.newBuilder().setDepartment(
                        dev.tranche.proto.v1.Department.newBuilder().setName(text)).build()),
                text -> () -> auth().revokeToken(RevokeTokenRequest.newBuilder().setId(text).build()),
                text -> () -> auth().createToken(CreateTokenRequest.newBuilder().setSubject(text).setRole(dev.tranche.proto.v1.Role.MEMBER)
                        .addProjects("vision").build()),
                text -> () -> auth().createToken(CreateTokenRequest.newBuilder().setSubject("someone").setRole(dev.tranche.proto.v1.Role.MEMBER)
                        .addProjects(text).build()));
        int projects = client.listProjects().size();
        for (Function<String, Supplier<Message>> call : calls) {
            for (String text : HOSTILE) {
                grpc("text " + RequestGuardEcho.of(text), call.apply(text));
            }
        }
        // hostile names are refused, not stored (the department case above adds only well-formed names)
        assertThat(client.listProjects().stream().filter(project -> project.getName().chars().anyMatch(Character::isISOControl)).toList()).isEmpty();
        assertThat(client.listProjects().size()).isLessThanOrEqualTo(projects + HOSTILE.size());
        assertNoProblems();
    }

    @Test
    void hostileSpecsAreRefusedAndNothingIsStored()
    {
        long stored = scheduler.count("SELECT count(*) FROM experiments");
        ExperimentSpec good = Specs.example();
        List<Function<ExperimentSpec.Builder, ExperimentSpec.Builder>> mutations = new ArrayList<>();
        for (String text : HOSTILE) {
            mutations.add(spec -> spec.setName(text.isEmpty() ? "\u0000" : text + "\u0000"));
            mutations.add(spec -> spec.setProject(text.isEmpty() ? "no such project" : text));
            mutations.add(spec -> spec.setDataset(spec.getDataset().toBuilder().setLocation("/" + text)));
            mutations.add(spec -> spec.setModel(spec.getModel().toBuilder().setArchitecture(text)));
            mutations.add(spec -> spec.setTraining(spec.getTraining().toBuilder().setOptimizer(text.isEmpty() ? "sgd-of-doom" : text)));
            mutations.add(spec -> spec.putLabels(text.isEmpty() ? "k\u0000" : text, "v\u0000"));
        }
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1, 0, 1e300, -0.0, 1.5}) {
            mutations.add(spec -> spec.setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(bad))));
            mutations.add(spec -> spec.setTraining(spec.getTraining().toBuilder().setLearningRate(bad == 1.5 ? 1e9 : bad)));
        }
        for (int bad : new int[] {-1, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, 100_000}) {
            mutations.add(spec -> spec.setReplicas(bad));
            mutations.add(spec -> spec.setTraining(spec.getTraining().toBuilder().setEpochs(bad)));
            mutations.add(spec -> spec.setTraining(spec.getTraining().toBuilder().setBatchSize(bad)));
            mutations.add(spec -> spec.setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(bad == 0 ? 10_000 : bad))));
        }
        for (String location : List.of("/etc", "/root/.ssh", "/proc/self/environ", "/usr/share/datasets/fashion-mnist/../../../../etc",
                "/usr/share/datasets//fashion-mnist", "/usr/share/datasets/fashion-mnist/.", "/tmp/x\n/etc", "relative/path", "/", "/dev/zero")) {
            mutations.add(spec -> spec.setDataset(spec.getDataset().toBuilder().setKind("image-folder").setLocation(location)));
        }
        mutations.add(spec -> {
            for (int i = 0; i < 1_000; i++) {
                spec.putLabels("k" + i, "v");
            }
            return spec;
        });
        mutations.add(spec -> spec.putLabels("big", "v".repeat(70_000)));
        for (Function<ExperimentSpec.Builder, ExperimentSpec.Builder> mutation : mutations) {
            ExperimentSpec spec = mutation.apply(good.toBuilder()).build();
            grpcRefused("spec " + RequestGuardEcho.of(spec.toString()), () -> experiments().submit(SubmitExperimentRequest.newBuilder().setSpec(spec).build()));
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(stored);
        assertNoProblems();
    }

    @Test
    void bytesThatAreNotProtobufAndTruncatedMessages()
    {
        List<MethodDescriptor<?, ?>> methods = List.of(ExperimentServiceGrpc.getSubmitMethod(), ExperimentServiceGrpc.getGetMethod(),
                ExperimentServiceGrpc.getListMethod(), ExperimentServiceGrpc.getCancelMethod(), AdminServiceGrpc.getCreateProjectMethod(),
                AdminServiceGrpc.getSetQuotaMethod(), AuthServiceGrpc.getCreateTokenMethod(), AuthServiceGrpc.getRevokeTokenMethod(),
                MetricsServiceGrpc.getGetMethod());
        Random random = new Random(42);
        long stored = scheduler.count("SELECT count(*) FROM experiments");
        for (MethodDescriptor<?, ?> method : methods) {
            for (int i = 0; i < 10; i++) {
                byte[] garbage = new byte[1 + random.nextInt(i < 5 ? 16 : 2_000)];
                random.nextBytes(garbage);
                raw(method, garbage);
            }
        }
        byte[] submit = SubmitExperimentRequest.newBuilder().setSpec(Specs.example()).setRequestId("truncated").build().toByteArray();
        for (int cut = 1; cut < submit.length; cut += Math.max(1, submit.length / 30)) {
            raw(ExperimentServiceGrpc.getSubmitMethod(), java.util.Arrays.copyOf(submit, cut));
        }
        // a length that claims more than follows, a group never closed, a varint of eleven bytes
        raw(ExperimentServiceGrpc.getGetMethod(), new byte[] {0x0a, 0x7f, 'e', 'x', 'p'});
        raw(ExperimentServiceGrpc.getGetMethod(), new byte[] {0x0b, 0x0a, 0x01, 'x'});
        raw(ExperimentServiceGrpc.getGetMethod(), new byte[] {0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(stored);
        assertNoProblems();
    }

    @Test
    void hostileHttpRequests()
            throws Exception
    {
        long stored = scheduler.count("SELECT count(*) FROM experiments");
        List<String> bodies = new ArrayList<>(List.of("", "{", "}", "[]", "null", "\"text\"", "1e400", "{\"spec\": 5}", "{\"spec\": []}",
                "{\"spec\": {\"replicas\": \"many\"}}", "{\"spec\": {\"training\": {\"epochs\": 1e100}}}", "{\"spec\": {\"name\": \"a\\u0000b\"}}",
                "{\"spec\": {\"name\": {\"nested\": true}}}", "{\"spec\": {\"no_such_field\": 1}}", "{\"request_id\": \"\\u0000\"}",
                "{\"spec\": {\"resources\": {\"gpu\": {\"fraction\": 0.5, \"count\": 2}}}}", "{\"spec\": {\"labels\": {\"k\": 5}}}",
                "{\"spec\": {\"name\": \"" + "n".repeat(900_000) + "\"}}", "[".repeat(100_000), "{\"a\":".repeat(10_000),
                "\u0000\u0001\u0002", "{\"spec\": {\"dataset\": {\"location\": \"/etc\", \"kind\": \"image-folder\"}}}", "{'single': 'quotes'}",
                "{\"spec\": {\"name\": \"ok\"}} trailing", "\ufeff{}"));
        for (String body : bodies) {
            httpCase("POST body " + RequestGuardEcho.of(body), HttpRequest.newBuilder(uri("/api/v1/experiments")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            httpCase("PUT quota body " + RequestGuardEcho.of(body), HttpRequest.newBuilder(uri("/api/v1/projects/vision/quota")).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body)));
        }
        for (String query : List.of("page_size=abc", "page_size=-1", "page_size=99999999999", "page_size=1e3", "state=bogus", "state=%00", "project=%00",
                "project=%0a", "project=" + "p".repeat(5_000), "page_token=%ff%fe", "page_token=garbage", "state=running,,", "page_size=%00")) {
            httpCase("GET ?" + RequestGuardEcho.of(query), HttpRequest.newBuilder(uri("/api/v1/experiments?" + query)).GET());
        }
        for (String query : List.of("downsample=-1", "downsample=abc", "after_step=NaN", "after_step=99999999999999999999", "names=%00", "names=" + "n,".repeat(500))) {
            httpCase("GET metrics ?" + RequestGuardEcho.of(query), HttpRequest.newBuilder(uri("/api/v1/experiments/exp-nope000000/metrics?" + query)).GET());
        }
        for (String query : List.of("tail=abc", "tail=-5", "tail=1000000000000", "rank=-5", "rank=abc")) {
            httpCase("GET logs ?" + query, HttpRequest.newBuilder(uri("/api/v1/experiments/exp-nope000000/logs?" + query)).GET());
        }
        for (String path : List.of("/api/v1/experiments/%00", "/api/v1/experiments/..%2F..%2Fetc%2Fpasswd", "/api/v1/experiments/" + "x".repeat(3_000),
                "/api/v1/experiments/%ff%fe", "/api/v1/experiments/exp-nope000000/cancel", "/api/v1/projects/%00/quota", "/api/v1/events?project=%00",
                "/api/v1/experiments/%2e%2e/metrics")) {
            boolean write = path.endsWith("cancel") || path.endsWith("quota");
            httpCase("path " + RequestGuardEcho.of(path), HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                    .method(write ? (path.endsWith("quota") ? "PUT" : "POST") : "GET", HttpRequest.BodyPublishers.ofString(write ? "{\"reason\": \"\\u0000\"}" : "")));
        }
        String auth = "Authorization: Bearer " + TestingScheduler.ADMIN_TOKEN + "\r\n";
        for (String request : List.of(
                "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 5000000\r\n\r\n{",
                "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 100\r\n\r\n{\"spec\":",
                "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: -5\r\n\r\n{}",
                "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
                "GET /api/v1/experiments HTTP/1.1\r\nHost: x\r\n" + auth + "X-Big: " + "h".repeat(20_000) + "\r\n\r\n",
                "GET /api/v1/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GARBAGE\r\n\r\n",
                "GET /api/v1/experiments HTTP/9.9\r\nHost: x\r\n\r\n",
                "GET /api/v1/experiments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0000\u0001\r\n\r\n")) {
            rawHttp(request);
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(stored);
        assertNoProblems();
    }

    @Test
    void hostileSpecFiles()
    {
        long stored = scheduler.count("SELECT count(*) FROM experiments");
        String good = """
                name: file-run
                project: default
                model: {architecture: lenet}
                dataset: {kind: fashion-mnist}
                resources: {gpu: {fraction: 0.5}}
                """;
        List<String> files = new ArrayList<>(List.of("", "---", "--- \n...", "[]", "42", "~", "name: [unclosed", "\u0000", "name: \"a\u0000b\"\nproject: default",
                "a: &a [*a]", "a: &a {b: *a}", billionLaughs(), "x:\n" + "  - ".repeat(1) + "[".repeat(10_000), "{".repeat(10_000),
                "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://127.0.0.1/\"]]]]",
                good + "labels: !!java.util.HashMap {}", good + "replicas: !!int \"x\"", good + "preemptible: \"true\"", good + "replicas: 1e400",
                good + "labels: {k: 5}", good + "labels: {k: [1, 2]}", good + "name: again", good + "training: {epochs: 0}",
                good + "training: {learning_rate: 0}", good + "training: {batchsize: 32}", good + "resources: {gpu: {fraction: 50%}}",
                good.replace("fashion-mnist}", "image-folder, location: /etc}"), good.replace("fashion-mnist}", "image-folder, location: ../../etc}"),
                good.replace("fashion-mnist}", "image-folder, location: \"/tmp/a\\n/etc\"}"), good.replace("fashion-mnist}", "fashion-mnist, location: /usr/share/datasets/fashion-mnist/../../..}"),
                good + "resources: {gpu: {fraction: 0.5, count: 2}}", good + "unknown_top_level: 1", "name: " + "n".repeat(2_000_000),
                good + "\t\tname: tabs", good.replace("name: file-run", "name: \u202efile"), good + "replicas: -1", good + "replicas: 99999999999999999999"));
        for (String text : files) {
            cases++;
            String label = "spec file " + RequestGuardEcho.of(text);
            long start = System.nanoTime();
            try {
                ExperimentSpec spec = new ExperimentSpecValidator().validateAndNormalize(ExperimentSpecFiles.parse(text, "hostile.yaml"));
                // what the client lets through, the server must still refuse
                try {
                    experiments().submit(SubmitExperimentRequest.newBuilder().setSpec(spec).build());
                    problems.add(label + ": accepted");
                }
                catch (StatusRuntimeException e) {
                    checkStatus(label, e.getStatus());
                }
            }
            catch (SpecFormatException | InvalidSpecException e) {
                checkMessage(label, e.getMessage());
                if (e.getMessage().lines().count() > 12) {
                    problems.add(label + ": a message of " + e.getMessage().lines().count() + " lines");
                }
            }
            catch (RuntimeException | StackOverflowError e) {
                problems.add(label + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
            }
            checkTime(label, start);
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(stored);
        assertNoProblems();
    }

    private static String billionLaughs()
    {
        StringBuilder yaml = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < 10; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) {
                yaml.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            yaml.append("]\n");
        }
        return yaml.toString();
    }

    private void grpc(String label, Supplier<Message> call)
    {
        cases++;
        long start = System.nanoTime();
        try {
            call.get();
        }
        catch (StatusRuntimeException e) {
            checkStatus(label, e.getStatus());
        }
        catch (RuntimeException e) {
            problems.add(label + ": " + e);
        }
        checkTime(label, start);
    }

    private void grpcRefused(String label, Supplier<Message> call)
    {
        cases++;
        long start = System.nanoTime();
        try {
            call.get();
            problems.add(label + ": accepted");
        }
        catch (StatusRuntimeException e) {
            checkStatus(label, e.getStatus());
            if (e.getStatus().getCode() == Status.Code.OK) {
                problems.add(label + ": accepted");
            }
        }
        checkTime(label, start);
    }

    private void raw(MethodDescriptor<?, ?> method, byte[] bytes)
    {
        MethodDescriptor<java.io.InputStream, java.io.InputStream> rawMethod = MethodDescriptor.<java.io.InputStream, java.io.InputStream>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(method.getFullMethodName())
                .setRequestMarshaller(new SecurityHardeningTest.RawMarshaller()).setResponseMarshaller(new SecurityHardeningTest.RawMarshaller()).build();
        grpc("raw " + method.getBareMethodName() + " " + bytes.length + " bytes", () -> {
            ClientCalls.blockingUnaryCall(admin, rawMethod, CallOptions.DEFAULT.withDeadlineAfter(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS),
                    new ByteArrayInputStream(bytes));
            return null;
        });
    }

    private void httpCase(String label, HttpRequest.Builder request)
    {
        cases++;
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN)
                    .timeout(ANSWER_WITHIN.plusSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 500) {
                problems.add(label + ": HTTP " + response.statusCode() + " " + RequestGuardEcho.of(response.body()));
            }
            if (response.statusCode() >= 400) {
                checkMessage(label, response.body());
                if (!response.body().startsWith("{\"code\":")) {
                    problems.add(label + ": not a JSON error: " + RequestGuardEcho.of(response.body()));
                }
            }
        }
        catch (Exception e) {
            problems.add(label + ": " + e);
        }
        checkTime(label, start);
    }

    private void rawHttp(String request)
    {
        cases++;
        String label = "raw HTTP " + RequestGuardEcho.of(request);
        long start = System.nanoTime();
        try (Socket socket = new Socket("127.0.0.1", scheduler.httpPort())) {
            socket.setSoTimeout((int) ANSWER_WITHIN.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer = new String(socket.getInputStream().readNBytes(2048), StandardCharsets.UTF_8);
            // 4xx, or 505 for a protocol version that does not exist
            if (!answer.matches("(?s)HTTP/1\\.1 (4\\d\\d|505) .*")) {
                problems.add(label + ": " + RequestGuardEcho.of(answer));
            }
            checkMessage(label, answer);
        }
        catch (Exception e) {
            problems.add(label + ": " + e);
        }
        checkTime(label, start);
    }

    private void checkStatus(String label, Status status)
    {
        if (!SPECIFIC.contains(status.getCode())) {
            problems.add(label + ": " + status.getCode() + " " + status.getDescription());
            return;
        }
        if (status.getCode() != Status.Code.OK) {
            if (status.getDescription() == null || status.getDescription().isBlank()) {
                problems.add(label + ": " + status.getCode() + " without a message");
                return;
            }
            checkMessage(label, status.getDescription());
            if (status.getDescription().length() > 600) {
                problems.add(label + ": a message of " + status.getDescription().length() + " characters");
            }
        }
    }

    private void checkMessage(String label, String message)
    {
        for (String leak : List.of("Exception", "\tat ", "java.", "javax.", "io.grpc", "org.postgresql", "com.google", "org.yaml", "snakeyaml", "NullPointer")) {
            if (message.contains(leak)) {
                problems.add(label + ": leaks \"" + leak + "\": " + RequestGuardEcho.of(message.substring(Math.max(0, message.indexOf(leak) - 60))));
                return;
            }
        }
    }

    private void checkTime(String label, long start)
    {
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (took.compareTo(ANSWER_WITHIN) > 0) {
            problems.add(label + ": took " + took.toMillis() + " ms");
        }
    }

    private void assertNoProblems()
    {
        assertThat(problems).as("hostile inputs without a specific, prompt answer").isEmpty();
    }

    private URI uri(String path)
    {
        return URI.create("http://127.0.0.1:" + scheduler.httpPort() + path);
    }

    private ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments()
    {
        return ExperimentServiceGrpc.newBlockingStub(admin).withDeadlineAfter(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    }

    private MetricsServiceGrpc.MetricsServiceBlockingStub metrics()
    {
        return MetricsServiceGrpc.newBlockingStub(admin).withDeadlineAfter(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    }

    private AdminServiceGrpc.AdminServiceBlockingStub adminService()
    {
        return AdminServiceGrpc.newBlockingStub(admin).withDeadlineAfter(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    }

    private AuthServiceGrpc.AuthServiceBlockingStub auth()
    {
        return AuthServiceGrpc.newBlockingStub(admin).withDeadlineAfter(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A short, printable label for a case (the same cut the server uses for echoes). */
    private static final class RequestGuardEcho
    {
        static String of(String text)
        {
            return dev.tranche.scheduler.service.RequestGuard.echo(text.replace("\n", "\\n").replace("\r", "\\r"));
        }
    }
}
