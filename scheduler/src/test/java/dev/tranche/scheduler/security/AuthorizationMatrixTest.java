package dev.tranche.scheduler.security;

import com.google.protobuf.Message;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.CreateDepartmentRequest;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.Department;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetLogsRequest;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GetQuotaRequest;
import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.ListAuditEventsRequest;
import dev.tranche.proto.v1.ListDepartmentsRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListNodesRequest;
import dev.tranche.proto.v1.ListProjectsRequest;
import dev.tranche.proto.v1.ListQuotasRequest;
import dev.tranche.proto.v1.ListTokensRequest;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.RevokeTokenRequest;
import dev.tranche.proto.v1.SetDepartmentQuotaRequest;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.proto.v1.WhoAmIRequest;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.AdjustableClock;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

/**
 * Every gRPC method and HTTP route the scheduler serves, against every kind of caller: none, the
 * wrong role, a member of another project, and the right role. A method or route that is served but
 * missing here fails the test, so nothing new ships unguarded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class AuthorizationMatrixTest
{
    private static final String SECRET_NAME = "alpha-secret-run";

    private TestingScheduler scheduler;
    private final AdjustableClock clock = new AdjustableClock();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private String admin;
    private String alphaMember;
    private String alphaViewer;
    private String betaMember;
    private String alphaExperiment;
    private String betaExperiment;
    private String alphaWorker;
    private String betaWorker;

    /** What a call is checked with: the caller's token (empty: none) and the experiment it targets. */
    record Caller(Optional<String> token) {}

    /**
     * One gRPC method: its rule, how to build a request aimed at alpha's project or experiment, and
     * the caller with the wrong role for it.
     */
    record GrpcCase(MethodDescriptor<Message, Message> method, AccessRule rule, boolean scoped, Function<Target, Message> request) {}

    /** What a request aims at. */
    record Target(String project, String experimentId, String workerCredential) {}

    @BeforeAll
    void start()
    {
        scheduler = TestingScheduler.withClock(Optional.of(DeclaredInventory.of(1, 4, 80 * 1024)), clock);
        TrancheClient client = scheduler.client();
        client.createProject(Project.newBuilder().setName("alpha").build());
        client.createProject(Project.newBuilder().setName("beta").build());
        client.createDepartment(Department.newBuilder().setName("research").build());
        admin = TestingScheduler.ADMIN_TOKEN;
        alphaMember = scheduler.token(Role.MEMBER, "alpha");
        alphaViewer = scheduler.token(Role.VIEWER, "alpha");
        betaMember = scheduler.token(Role.MEMBER, "beta");
        alphaExperiment = client.submit(Specs.named(SECRET_NAME, "alpha")).getExperiment().getId();
        betaExperiment = client.submit(Specs.named("beta-run", "beta")).getExperiment().getId();
        alphaWorker = scheduler.server().workerCredential(alphaExperiment);
        betaWorker = scheduler.server().workerCredential(betaExperiment);
    }

    @AfterAll
    void stop()
    {
        channels.forEach(ManagedChannel::shutdownNow);
        scheduler.close();
    }

    private Map<String, GrpcCase> grpcCases()
    {
        Map<String, GrpcCase> cases = new LinkedHashMap<>();
        add(cases, ExperimentServiceGrpc.getSubmitMethod(), AccessRule.MEMBER, true,
                t -> SubmitExperimentRequest.newBuilder().setSpec(Specs.named("matrix-" + UUID.randomUUID().toString().substring(0, 8), t.project())).build());
        add(cases, ExperimentServiceGrpc.getGetMethod(), AccessRule.VIEWER, true, t -> GetExperimentRequest.newBuilder().setId(t.experimentId()).build());
        add(cases, ExperimentServiceGrpc.getListMethod(), AccessRule.VIEWER, true, t -> ListExperimentsRequest.newBuilder().setProject(t.project()).build());
        add(cases, ExperimentServiceGrpc.getCancelMethod(), AccessRule.MEMBER, true, t -> CancelExperimentRequest.newBuilder().setId(freshExperiment(t.project())).build());
        add(cases, ExperimentServiceGrpc.getWatchMethod(), AccessRule.VIEWER, true, t -> WatchExperimentsRequest.newBuilder().setId(t.experimentId()).build());
        add(cases, ExperimentServiceGrpc.getGetLogsMethod(), AccessRule.VIEWER, true, t -> GetLogsRequest.newBuilder().setId(t.experimentId()).build());
        add(cases, ExperimentServiceGrpc.getExportHistoryMethod(), AccessRule.VIEWER, true, t -> ExportHistoryRequest.newBuilder().setProject(t.project()).build());
        add(cases, MetricsServiceGrpc.getReportMethod(), AccessRule.WORKER, true, t -> MetricBatch.newBuilder().setExperimentId(t.experimentId())
                .setCredential(t.workerCredential()).addPoints(MetricPoint.newBuilder().setName("loss").setStep(1).setEpoch(1).setValue(0.5)).build());
        add(cases, MetricsServiceGrpc.getGetMethod(), AccessRule.VIEWER, true, t -> GetMetricsRequest.newBuilder().setExperimentId(t.experimentId()).build());
        add(cases, AdminServiceGrpc.getCreateProjectMethod(), AccessRule.ADMIN, false,
                t -> CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName("p-" + UUID.randomUUID().toString().substring(0, 8))).build());
        add(cases, AdminServiceGrpc.getListProjectsMethod(), AccessRule.VIEWER, true, t -> ListProjectsRequest.getDefaultInstance());
        add(cases, AdminServiceGrpc.getSetQuotaMethod(), AccessRule.ADMIN, false,
                t -> SetQuotaRequest.newBuilder().setProject(t.project()).setQuota(Quota.newBuilder().setDeservedGpus(1)).build());
        add(cases, AdminServiceGrpc.getGetQuotaMethod(), AccessRule.VIEWER, true, t -> GetQuotaRequest.newBuilder().setProject(t.project()).build());
        add(cases, AdminServiceGrpc.getListQuotasMethod(), AccessRule.VIEWER, true, t -> ListQuotasRequest.getDefaultInstance());
        add(cases, AdminServiceGrpc.getCreateDepartmentMethod(), AccessRule.ADMIN, false,
                t -> CreateDepartmentRequest.newBuilder().setDepartment(Department.newBuilder().setName("d-" + UUID.randomUUID().toString().substring(0, 8))).build());
        add(cases, AdminServiceGrpc.getListDepartmentsMethod(), AccessRule.VIEWER, false, t -> ListDepartmentsRequest.getDefaultInstance());
        add(cases, AdminServiceGrpc.getSetDepartmentQuotaMethod(), AccessRule.ADMIN, false,
                t -> SetDepartmentQuotaRequest.newBuilder().setDepartment("research").setQuota(Quota.newBuilder().setDeservedGpus(2)).build());
        add(cases, AdminServiceGrpc.getListNodesMethod(), AccessRule.VIEWER, true, t -> ListNodesRequest.getDefaultInstance());
        add(cases, AdminServiceGrpc.getGetUsageMethod(), AccessRule.VIEWER, true, t -> GetUsageRequest.newBuilder().setProject(t.project()).build());
        add(cases, AuthServiceGrpc.getWhoAmIMethod(), AccessRule.VIEWER, false, t -> WhoAmIRequest.getDefaultInstance());
        add(cases, AuthServiceGrpc.getCreateTokenMethod(), AccessRule.ADMIN, false,
                t -> CreateTokenRequest.newBuilder().setSubject("new-user").setRole(dev.tranche.proto.v1.Role.VIEWER).addProjects(t.project()).build());
        add(cases, AuthServiceGrpc.getListTokensMethod(), AccessRule.ADMIN, false, t -> ListTokensRequest.getDefaultInstance());
        add(cases, AuthServiceGrpc.getRevokeTokenMethod(), AccessRule.ADMIN, false,
                t -> RevokeTokenRequest.newBuilder().setId(scheduler.server().issueToken("throwaway", Role.VIEWER, List.of("alpha")).token().id()).build());
        add(cases, AuthServiceGrpc.getListAuditEventsMethod(), AccessRule.ADMIN, false, t -> ListAuditEventsRequest.getDefaultInstance());
        add(cases, ServerReflectionGrpc.getServerReflectionInfoMethod(), AccessRule.VIEWER, false,
                t -> ServerReflectionRequest.newBuilder().setListServices("").build());
        HealthGrpc.getServiceDescriptor().getMethods().forEach(method -> add(cases, method, AccessRule.PUBLIC, false, t -> HealthCheckRequest.getDefaultInstance()));
        return cases;
    }

    @SuppressWarnings("unchecked")
    private static void add(Map<String, GrpcCase> cases, MethodDescriptor<?, ?> method, AccessRule rule, boolean scoped, Function<Target, Message> request)
    {
        cases.put(method.getFullMethodName(), new GrpcCase((MethodDescriptor<Message, Message>) method, rule, scoped, request));
    }

    @Test
    void everyServedGrpcMethodIsInTheMatrixAndThePolicy()
    {
        Map<String, GrpcCase> cases = grpcCases();
        assertThat(new TreeSet<>(scheduler.server().grpcMethods())).isSubsetOf(cases.keySet());
        assertThat(AccessPolicy.standard().rules().keySet()).containsAll(scheduler.server().grpcMethods());
        cases.forEach((name, testCase) -> assertThat(AccessPolicy.standard().ruleFor(name)).as(name).contains(testCase.rule()));
    }

    @Test
    void everyGrpcMethodRefusesTheWrongCallersAndServesTheRightOne()
    {
        Target alpha = new Target("alpha", alphaExperiment, alphaWorker);
        assertSoftly(softly -> {
            for (GrpcCase testCase : grpcCases().values()) {
                String name = testCase.method().getFullMethodName();
                if (testCase.method().getFullMethodName().equals(HealthGrpc.getWatchMethod().getFullMethodName())) {
                    // a stream that only ends when the server does; Check covers the service
                    continue;
                }
                if (testCase.rule() == AccessRule.PUBLIC) {
                    softly.assertThat(call(testCase, Optional.empty(), alpha).status().getCode()).as(name + " without a token").isEqualTo(Status.Code.OK);
                    continue;
                }
                // 1. no token at all
                softly.assertThat(call(testCase, Optional.empty(), withoutCredential(alpha, testCase)).status().getCode())
                        .as(name + " without a token").isEqualTo(Status.Code.UNAUTHENTICATED);
                // 2. a token of the wrong kind or role
                softly.assertThat(call(testCase, Optional.of(wrongRole(testCase.rule())), alpha).status().getCode())
                        .as(name + " with the wrong role").isEqualTo(Status.Code.PERMISSION_DENIED);
                // 3. a member of another project: refused, or shown nothing of alpha
                if (testCase.scoped()) {
                    Outcome other = testCase.rule() == AccessRule.WORKER
                            ? call(testCase, Optional.empty(), new Target("alpha", alphaExperiment, betaWorker))
                            : call(testCase, Optional.of(betaMember), alpha);
                    if (isList(testCase)) {
                        softly.assertThat(other.status().getCode()).as(name + " by beta's member (a list: allowed, filtered)").isEqualTo(Status.Code.OK);
                        softly.assertThat(other.text()).as(name + " by beta's member shows nothing of alpha").doesNotContain(SECRET_NAME).doesNotContain(alphaExperiment)
                                .doesNotContain("\"alpha\"");
                    }
                    else {
                        softly.assertThat(other.status().getCode()).as(name + " by beta's member").isEqualTo(Status.Code.PERMISSION_DENIED);
                        softly.assertThat(other.text()).as(name + " refusal carries no data").doesNotContain(SECRET_NAME);
                    }
                }
                // 4. the right role
                Optional<String> right = switch (testCase.rule()) {
                    case ADMIN -> Optional.of(admin);
                    case MEMBER -> Optional.of(alphaMember);
                    case VIEWER -> Optional.of(alphaViewer);
                    default -> Optional.empty();
                };
                Outcome allowed = call(testCase, right, alpha);
                softly.assertThat(allowed.status().getCode()).as(name + " with the right role: " + allowed.status()).isEqualTo(Status.Code.OK);
            }
        });
    }

    @Test
    void anAdminSeesEveryProjectAndAMemberOnlyTheirs()
    {
        try (TrancheClient member = scheduler.client(betaMember); TrancheClient root = scheduler.client(admin)) {
            assertThat(member.list(ListExperimentsRequest.getDefaultInstance()).getExperimentsList()).extracting(e -> e.getSpec().getProject()).containsOnly("beta");
            assertThat(root.list(ListExperimentsRequest.getDefaultInstance()).getExperimentsList()).extracting(e -> e.getSpec().getProject()).contains("alpha", "beta");
            assertThat(member.listProjects()).extracting(Project::getName).containsExactly("beta");
        }
    }

    @Test
    void refusalsAndAdminActionsAreAudited()
    {
        // the other tests of this class fill the same table: count only the rows this test's calls add
        scheduler.server().flushAudit();
        long before = scheduler.count("SELECT coalesce(max(id), 0) FROM audit_events");
        call(grpcCases().get(AdminServiceGrpc.getSetQuotaMethod().getFullMethodName()), Optional.of(alphaMember), new Target("alpha", alphaExperiment, alphaWorker));
        scheduler.server().flushAudit();
        assertThat(scheduler.count("SELECT count(*) FROM audit_events WHERE id > " + before)).isEqualTo(1);
        assertThat(scheduler.count("SELECT count(*) FROM audit_events WHERE id > " + before + " AND action = 'tranche.v1.AdminService/SetQuota' "
                + "AND outcome = 'PERMISSION_DENIED' AND actor LIKE 'test-member (tok-%' AND target = 'alpha' AND remote_address LIKE '127.0.0.1:%'")).isEqualTo(1);
        long afterRefusal = scheduler.count("SELECT max(id) FROM audit_events");
        scheduler.client().setQuota("beta", Quota.newBuilder().setDeservedGpus(1).build());
        scheduler.server().flushAudit();
        assertThat(scheduler.count("SELECT count(*) FROM audit_events WHERE id > " + afterRefusal)).isEqualTo(1);
        assertThat(scheduler.count("SELECT count(*) FROM audit_events WHERE id > " + afterRefusal + " AND action = 'tranche.v1.AdminService/SetQuota' "
                + "AND outcome = 'OK' AND target = 'beta' AND actor LIKE 'admin%'")).isEqualTo(1);
        // no secret ever reaches the audit log
        assertThat(scheduler.count("SELECT count(*) FROM audit_events WHERE detail LIKE '%trn_%' OR detail LIKE '%" + TestingScheduler.ADMIN_TOKEN + "%'")).isZero();
    }

    @Test
    void expiredAndRevokedTokensAndForeignWorkerCredentialsAreRefused()
            throws Exception
    {
        IssuedToken revoked = scheduler.server().issueToken("leaver", Role.MEMBER, List.of("alpha"));
        try (TrancheClient client = scheduler.client(revoked.secret())) {
            assertThat(client.whoAmI().getSubject()).isEqualTo("leaver");
            scheduler.client().revokeToken(revoked.token().id());
            assertThat(statusOf(client::whoAmI)).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(messageOf(client::whoAmI)).contains("was revoked");
        }
        String shortLived = scheduler.client().createToken(CreateTokenRequest.newBuilder().setSubject("temp").setRole(dev.tranche.proto.v1.Role.VIEWER)
                .addProjects("alpha").setTtlSeconds(1).build()).getSecret();
        try (TrancheClient client = scheduler.client(shortLived)) {
            assertThat(client.whoAmI().getSubject()).isEqualTo("temp");
            // the scheduler's clock, not this thread, moves past the expiry
            clock.advance(Duration.ofSeconds(2));
            assertThat(messageOf(client::whoAmI)).contains("UNAUTHENTICATED").contains("expired at");
        }
        // a worker credential as a bearer token opens nothing but metric reports
        try (TrancheClient worker = scheduler.client(alphaWorker)) {
            assertThat(statusOf(() -> worker.get(alphaExperiment))).isEqualTo(Status.Code.PERMISSION_DENIED);
        }
        // and reports only for its own experiment
        Target foreign = new Target("alpha", alphaExperiment, betaWorker);
        Outcome outcome = call(grpcCases().get(MetricsServiceGrpc.getReportMethod().getFullMethodName()), Optional.empty(), foreign);
        assertThat(outcome.status().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(outcome.status().getDescription()).isEqualTo("the credential is not valid for experiment " + alphaExperiment);
    }

    @Test
    void everyHttpRouteIsInTheMatrixAndGuarded()
            throws Exception
    {
        String alphaQuota = "{\"deserved_gpus\": 1}";
        String submitAlpha = "{\"spec\": {\"name\": \"http-run\", \"project\": \"alpha\", \"dataset\": {\"kind\": \"fashion-mnist\"}, \"model\": {\"architecture\": \"lenet\"}}}";
        // route -> [path to call, body, the rule, scoped]
        Map<String, HttpCase> cases = new LinkedHashMap<>();
        cases.put("GET /healthz", new HttpCase("GET", "/healthz", null, AccessRule.PUBLIC, false));
        cases.put("GET /livez", new HttpCase("GET", "/livez", null, AccessRule.PUBLIC, false));
        cases.put("GET /readyz", new HttpCase("GET", "/readyz", null, AccessRule.PUBLIC, false));
        cases.put("GET /metrics", new HttpCase("GET", "/metrics", null, AccessRule.ADMIN, false));
        cases.put("POST /api/v1/session", new HttpCase("POST", "/api/v1/session", null, AccessRule.PUBLIC, false));
        cases.put("GET /api/v1/session", new HttpCase("GET", "/api/v1/session", null, AccessRule.VIEWER, false));
        cases.put("DELETE /api/v1/session", new HttpCase("DELETE", "/api/v1/session", null, AccessRule.PUBLIC, false));
        cases.put("GET /api/v1/experiments", new HttpCase("GET", "/api/v1/experiments", null, AccessRule.VIEWER, true));
        cases.put("POST /api/v1/experiments", new HttpCase("POST", "/api/v1/experiments", submitAlpha, AccessRule.MEMBER, true));
        cases.put("GET /api/v1/experiments/{id}", new HttpCase("GET", "/api/v1/experiments/" + alphaExperiment, null, AccessRule.VIEWER, true));
        cases.put("POST /api/v1/experiments/{id}/cancel", new HttpCase("POST", "/api/v1/experiments/{fresh}/cancel", "", AccessRule.MEMBER, true));
        cases.put("GET /api/v1/experiments/{id}/metrics", new HttpCase("GET", "/api/v1/experiments/" + alphaExperiment + "/metrics", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/experiments/{id}/logs", new HttpCase("GET", "/api/v1/experiments/" + alphaExperiment + "/logs", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/projects", new HttpCase("GET", "/api/v1/projects", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/quotas", new HttpCase("GET", "/api/v1/quotas", null, AccessRule.VIEWER, true));
        cases.put("PUT /api/v1/projects/{name}/quota", new HttpCase("PUT", "/api/v1/projects/alpha/quota", alphaQuota, AccessRule.ADMIN, false));
        cases.put("GET /api/v1/nodes", new HttpCase("GET", "/api/v1/nodes", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/usage", new HttpCase("GET", "/api/v1/usage?project=alpha", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/history", new HttpCase("GET", "/api/v1/history?project=alpha", null, AccessRule.VIEWER, true));
        cases.put("GET /api/v1/events", new HttpCase("GET", "/api/v1/events?project=alpha", null, AccessRule.VIEWER, true));

        assertThat(new TreeSet<>(scheduler.server().httpRoutes())).isEqualTo(new TreeSet<>(cases.keySet()));
        assertSoftly(softly -> {
            for (Map.Entry<String, HttpCase> entry : cases.entrySet()) {
                HttpCase testCase = entry.getValue();
                String route = entry.getKey();
                HttpResponse<String> anonymous = send(testCase, Optional.empty());
                if (testCase.rule() == AccessRule.PUBLIC) {
                    softly.assertThat(anonymous.statusCode()).as(route + " without a token").isIn(200, 204, 400, 401);
                    continue;
                }
                softly.assertThat(anonymous.statusCode()).as(route + " without a token").isEqualTo(401);
                softly.assertThat(send(testCase, Optional.of(wrongRole(testCase.rule()))).statusCode()).as(route + " with the wrong role").isEqualTo(403);
                if (testCase.scoped()) {
                    HttpResponse<String> other = send(testCase, Optional.of(betaMember));
                    softly.assertThat(other.body()).as(route + " by beta's member shows nothing of alpha").doesNotContain(SECRET_NAME);
                    if (!testCase.isList()) {
                        softly.assertThat(other.statusCode()).as(route + " by beta's member").isEqualTo(403);
                    }
                }
                String right = switch (testCase.rule()) {
                    case ADMIN -> admin;
                    case MEMBER -> alphaMember;
                    default -> alphaViewer;
                };
                HttpResponse<String> allowed = send(testCase, Optional.of(right));
                softly.assertThat(allowed.statusCode()).as(route + " with the right role: " + allowed.body()).isBetween(200, 299);
            }
            // static files need a session too: a page sends the browser to the login page, a script is refused
            softly.assertThat(send(new HttpCase("GET", "/index.html", null, AccessRule.VIEWER, false), Optional.empty()).statusCode()).isEqualTo(302);
            softly.assertThat(send(new HttpCase("GET", "/app.js", null, AccessRule.VIEWER, false), Optional.empty()).statusCode()).isEqualTo(401);
            softly.assertThat(send(new HttpCase("GET", "/login.html", null, AccessRule.PUBLIC, false), Optional.empty()).statusCode()).isEqualTo(200);
        });
    }

    record HttpCase(String method, String path, String body, AccessRule rule, boolean scoped)
    {
        boolean isList()
        {
            return method.equals("GET") && (path.equals("/api/v1/experiments") || path.equals("/api/v1/projects") || path.equals("/api/v1/quotas")
                    || path.equals("/api/v1/nodes"));
        }
    }

    private HttpResponse<String> send(HttpCase testCase, Optional<String> token)
    {
        try {
            return sendChecked(testCase, token);
        }
        catch (Exception e) {
            throw new IllegalStateException(testCase.method() + " " + testCase.path() + ": " + e, e);
        }
    }

    private HttpResponse<String> sendChecked(HttpCase testCase, Optional<String> token)
            throws Exception
    {
        String path = testCase.path().replace("{fresh}", freshExperiment("alpha"));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path)).timeout(Duration.ofSeconds(10));
        token.ifPresent(value -> request.header("Authorization", "Bearer " + value));
        request.method(testCase.method(), testCase.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(testCase.body()));
        if (path.startsWith("/api/v1/events")) {
            // a live stream: the status line is all that is needed
            request.header("Accept", "text/event-stream");
            HttpResponse<java.io.InputStream> streaming = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            String head = streaming.statusCode() == 200 ? "" : new String(streaming.body().readAllBytes());
            streaming.body().close();
            return new FixedResponse(streaming, head);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String wrongRole(AccessRule rule)
    {
        return switch (rule) {
            case ADMIN -> alphaMember;
            case MEMBER -> alphaViewer;
            case VIEWER -> alphaWorker;
            case WORKER -> alphaViewer;
            case PUBLIC -> throw new IllegalArgumentException("a public method has no wrong role");
        };
    }

    private static boolean isList(GrpcCase testCase)
    {
        String name = testCase.method().getFullMethodName();
        // List and Watch name alpha in the request: refused; these lists take no project and are filtered
        return name.endsWith("/ListProjects") || name.endsWith("/ListQuotas") || name.endsWith("/ListNodes");
    }

    private static Target withoutCredential(Target target, GrpcCase testCase)
    {
        return testCase.rule() == AccessRule.WORKER ? new Target(target.project(), target.experimentId(), "") : target;
    }

    private String freshExperiment(String project)
    {
        return scheduler.client().submit(Specs.named("to-cancel-" + UUID.randomUUID().toString().substring(0, 8), project)).getExperiment().getId();
    }

    record Outcome(Status status, String text) {}

    /** Calls the method as {@code token} (none: empty) and reports the status and everything returned. */
    private Outcome call(GrpcCase testCase, Optional<String> token, Target target)
    {
        Channel channel = channel(token);
        MethodDescriptor<Message, Message> method = testCase.method();
        Message request = testCase.request().apply(target);
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
        try {
            switch (method.getType()) {
                case UNARY -> {
                    return new Outcome(Status.OK, ClientCalls.blockingUnaryCall(channel, method, options, request).toString());
                }
                case SERVER_STREAMING -> {
                    Context.CancellableContext context = Context.current().withCancellation();
                    try {
                        return context.call(() -> {
                            Iterator<Message> events = ClientCalls.blockingServerStreamingCall(channel, method, options, request);
                            return new Outcome(Status.OK, events.hasNext() ? events.next().toString() : "");
                        });
                    }
                    finally {
                        context.cancel(null);
                    }
                }
                default -> {
                    CompletableFuture<Message> response = new CompletableFuture<>();
                    StreamObserver<Message> responses = new StreamObserver<>()
                    {
                        @Override
                        public void onNext(Message value)
                        {
                            response.complete(value);
                        }

                        @Override
                        public void onError(Throwable t)
                        {
                            response.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted()
                        {
                            response.complete(null);
                        }
                    };
                    StreamObserver<Message> requests = method.getType() == MethodDescriptor.MethodType.CLIENT_STREAMING
                            ? ClientCalls.asyncClientStreamingCall(channel.newCall(method, options), responses)
                            : ClientCalls.asyncBidiStreamingCall(channel.newCall(method, options), responses);
                    requests.onNext(request);
                    if (method.getType() == MethodDescriptor.MethodType.CLIENT_STREAMING) {
                        requests.onCompleted();
                    }
                    try {
                        Message value = response.get(10, TimeUnit.SECONDS);
                        return new Outcome(Status.OK, String.valueOf(value));
                    }
                    finally {
                        if (method.getType() == MethodDescriptor.MethodType.BIDI_STREAMING) {
                            requests.onCompleted();
                        }
                    }
                }
            }
        }
        catch (StatusRuntimeException e) {
            return new Outcome(e.getStatus(), String.valueOf(e.getStatus().getDescription()));
        }
        catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            Status status = Status.fromThrowable(cause);
            return new Outcome(status, String.valueOf(status.getDescription()));
        }
    }

    private Channel channel(Optional<String> token)
    {
        ManagedChannel channel = Grpc.newChannelBuilder(scheduler.target(), InsecureChannelCredentials.create()).build();
        channels.add(channel);
        if (token.isEmpty()) {
            return channel;
        }
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token.get());
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static Status.Code statusOf(Runnable call)
    {
        try {
            call.run();
            return Status.Code.OK;
        }
        catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private static String messageOf(Runnable call)
    {
        try {
            call.run();
            return "OK";
        }
        catch (StatusRuntimeException e) {
            return e.getMessage();
        }
    }

    /** An SSE response reduced to its status line (its body never ends). */
    private record FixedResponse(HttpResponse<java.io.InputStream> delegate, String text)
            implements HttpResponse<String>
    {
        @Override
        public int statusCode()
        {
            return delegate.statusCode();
        }

        @Override
        public HttpRequest request()
        {
            return delegate.request();
        }

        @Override
        public Optional<HttpResponse<String>> previousResponse()
        {
            return Optional.empty();
        }

        @Override
        public java.net.http.HttpHeaders headers()
        {
            return delegate.headers();
        }

        @Override
        public String body()
        {
            return text;
        }

        @Override
        public Optional<javax.net.ssl.SSLSession> sslSession()
        {
            return delegate.sslSession();
        }

        @Override
        public URI uri()
        {
            return delegate.uri();
        }

        @Override
        public HttpClient.Version version()
        {
            return delegate.version();
        }
    }
}
