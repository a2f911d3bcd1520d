package dev.tranche.client;

import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.HistoryJob;
import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.GetUsageResponse;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.CreateTokenResponse;
import dev.tranche.proto.v1.ListAuditEventsRequest;
import dev.tranche.proto.v1.ListAuditEventsResponse;
import dev.tranche.proto.v1.ListTokensRequest;
import dev.tranche.proto.v1.RevokeTokenRequest;
import dev.tranche.proto.v1.Token;
import dev.tranche.proto.v1.WhoAmIRequest;
import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.CreateDepartmentRequest;
import dev.tranche.proto.v1.Department;
import dev.tranche.proto.v1.ListDepartmentsRequest;
import dev.tranche.proto.v1.SetDepartmentQuotaRequest;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetLogsRequest;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GetMetricsResponse;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.GetQuotaRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.ListNodesRequest;
import dev.tranche.proto.v1.ListNodesResponse;
import dev.tranche.proto.v1.ListProjectsRequest;
import dev.tranche.proto.v1.ListQuotasRequest;
import dev.tranche.proto.v1.ListQuotasResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.SubmitExperimentResponse;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The Java client of a Tranche scheduler. Failed calls throw {@link io.grpc.StatusRuntimeException}
 * whose description is the server's message, for example
 * {@code INVALID_ARGUMENT: resources.gpu.fraction must be in (0, 1]: got 1.5}.
 */
public final class TrancheClient
        implements AutoCloseable
{
    public static final String DEFAULT_SERVER = "localhost:50051";
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ManagedChannel channel;
    private final Duration deadline;
    private final ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments;
    private final AdminServiceGrpc.AdminServiceBlockingStub admin;
    private final MetricsServiceGrpc.MetricsServiceBlockingStub metrics;

    public TrancheClient(ManagedChannel channel, Duration deadline)
    {
        this.channel = requireNonNull(channel, "channel is null");
        this.deadline = requireNonNull(deadline, "deadline is null");
        this.experiments = ExperimentServiceGrpc.newBlockingStub(channel);
        this.admin = AdminServiceGrpc.newBlockingStub(channel);
        this.metrics = MetricsServiceGrpc.newBlockingStub(channel);
    }

    /** A plaintext connection to {@code host:port} without a token (health checks; servers that need none). */
    public static TrancheClient connect(String target)
    {
        return connect(ConnectionSettings.plaintext(target));
    }

    /** A connection with the token (sent as "authorization: Bearer ...") and TLS of {@code connection}. */
    public static TrancheClient connect(ConnectionSettings connection)
    {
        requireNonNull(connection, "connection is null");
        var builder = Grpc.newChannelBuilder(connection.target(), connection.credentials());
        connection.token().ifPresent(token -> {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        });
        return new TrancheClient(builder.build(), Duration.ofSeconds(30));
    }

    /** Submits with a fresh request id; see {@link #submit(ExperimentSpec, String)}. */
    public SubmitExperimentResponse submit(ExperimentSpec spec)
    {
        return submit(spec, UUID.randomUUID().toString());
    }

    /** Submits once per request id: a retry with the same id returns the experiment created first. */
    public SubmitExperimentResponse submit(ExperimentSpec spec, String requestId)
    {
        return experiments().submit(SubmitExperimentRequest.newBuilder().setSpec(spec).setRequestId(requestId).build());
    }

    public Experiment get(String id)
    {
        return experiments().get(GetExperimentRequest.newBuilder().setId(id).build());
    }

    public ListExperimentsResponse list(ListExperimentsRequest request)
    {
        return experiments().list(request);
    }

    public List<String> logs(String id, int rank, int tailLines)
    {
        return experiments().getLogs(GetLogsRequest.newBuilder().setId(id).setRank(rank).setTailLines(tailLines).build()).getLinesList();
    }

    public Experiment cancel(String id, String reason)
    {
        return experiments().cancel(CancelExperimentRequest.newBuilder().setId(id).setReason(reason).build());
    }

    /** Finished experiments that ran, oldest first; the iterator ends with the last. No deadline (an export may be long). */
    public Iterator<HistoryJob> exportHistory(ExportHistoryRequest request)
    {
        return ExperimentServiceGrpc.newBlockingStub(channel).exportHistory(request);
    }

    /** Blocks between events; the iterator ends when the server ends the stream. No deadline. */
    public Iterator<ExperimentEvent> watch(WatchExperimentsRequest request)
    {
        return ExperimentServiceGrpc.newBlockingStub(channel).watch(request);
    }

    public GetMetricsResponse metrics(GetMetricsRequest request)
    {
        return metrics.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS).get(request);
    }

    /** The channel, for the asynchronous stubs (a worker's metric stream). */
    public ManagedChannel channel()
    {
        return channel;
    }

    public Project createProject(Project project)
    {
        return admin().createProject(CreateProjectRequest.newBuilder().setProject(project).build());
    }

    public List<Project> listProjects()
    {
        return admin().listProjects(ListProjectsRequest.getDefaultInstance()).getProjectsList();
    }

    public Project setQuota(String project, Quota quota)
    {
        return admin().setQuota(SetQuotaRequest.newBuilder().setProject(project).setQuota(quota).build());
    }

    public Quota getQuota(String project)
    {
        return admin().getQuota(GetQuotaRequest.newBuilder().setProject(project).build());
    }

    public Department createDepartment(Department department)
    {
        return admin().createDepartment(CreateDepartmentRequest.newBuilder().setDepartment(department).build());
    }

    public List<Department> listDepartments()
    {
        return admin().listDepartments(ListDepartmentsRequest.getDefaultInstance()).getDepartmentsList();
    }

    public Department setDepartmentQuota(String department, Quota quota)
    {
        return admin().setDepartmentQuota(SetDepartmentQuotaRequest.newBuilder().setDepartment(department).setQuota(quota).build());
    }

    public ListQuotasResponse listQuotas()
    {
        return admin().listQuotas(ListQuotasRequest.getDefaultInstance());
    }

    public ListNodesResponse listNodes()
    {
        return admin().listNodes(ListNodesRequest.getDefaultInstance());
    }

    /** Usage over time: GPUs held against deserved per project, the cluster's allocation, waits per day. */
    public GetUsageResponse usage(GetUsageRequest request)
    {
        return admin().getUsage(request);
    }

    public Token whoAmI()
    {
        return auth().whoAmI(WhoAmIRequest.getDefaultInstance()).getToken();
    }

    public CreateTokenResponse createToken(CreateTokenRequest request)
    {
        return auth().createToken(request);
    }

    public List<Token> listTokens(boolean includeInactive)
    {
        return auth().listTokens(ListTokensRequest.newBuilder().setIncludeInactive(includeInactive).build()).getTokensList();
    }

    public Token revokeToken(String id)
    {
        return auth().revokeToken(RevokeTokenRequest.newBuilder().setId(id).build());
    }

    public ListAuditEventsResponse auditEvents(ListAuditEventsRequest request)
    {
        return auth().listAuditEvents(request);
    }

    private AuthServiceGrpc.AuthServiceBlockingStub auth()
    {
        return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments()
    {
        return experiments.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private AdminServiceGrpc.AdminServiceBlockingStub admin()
    {
        return admin.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close()
    {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        }
        catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
