package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.GetQuotaRequest;
import dev.tranche.proto.v1.ListNodesRequest;
import dev.tranche.proto.v1.ListNodesResponse;
import dev.tranche.proto.v1.ListProjectsRequest;
import dev.tranche.proto.v1.ListProjectsResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.scheduler.project.ProjectManager;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.OptionalDouble;

import static java.util.Objects.requireNonNull;

/** tranche.v1.AdminService over {@link ProjectManager}. Nodes come with the execution backends. */
public final class AdminGrpcService
        extends AdminServiceGrpc.AdminServiceImplBase
{
    private final ProjectManager projects;

    public AdminGrpcService(ProjectManager projects)
    {
        this.projects = requireNonNull(projects, "projects is null");
    }

    @Override
    public void createProject(CreateProjectRequest request, StreamObserver<Project> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getProject().hasQuota()) {
                throw new IllegalArgumentException("project.quota is set with SetQuota after the project exists; leave it out here");
            }
            return ProtoMapper.project(projects.create(request.getProject().getName(), request.getProject().getDescription()));
        });
    }

    @Override
    public void listProjects(ListProjectsRequest request, StreamObserver<ListProjectsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            ListProjectsResponse.Builder response = ListProjectsResponse.newBuilder();
            projects.list().forEach(project -> response.addProjects(ProtoMapper.project(project)));
            return response.build();
        });
    }

    @Override
    public void setQuota(SetQuotaRequest request, StreamObserver<Project> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (!request.hasQuota()) {
                throw new IllegalArgumentException("quota is required");
            }
            Quota quota = request.getQuota();
            return ProtoMapper.project(projects.setQuota(request.getProject(),
                    quota.getDeservedGpus(),
                    quota.hasLimitGpus() ? OptionalDouble.of(quota.getLimitGpus()) : OptionalDouble.empty(),
                    quota.hasOverQuotaWeight() ? OptionalDouble.of(quota.getOverQuotaWeight()) : OptionalDouble.empty()));
        });
    }

    @Override
    public void getQuota(GetQuotaRequest request, StreamObserver<Quota> observer)
    {
        GrpcErrors.unary(observer, () -> ProtoMapper.project(projects.get(request.getProject())).getQuota());
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> observer)
    {
        observer.onError(Status.UNIMPLEMENTED
                .withDescription("node inventory arrives with the execution backends; this scheduler has none configured yet")
                .asRuntimeException());
    }
}
