package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.ClusterUsageSample;
import dev.tranche.proto.v1.DailyWait;
import dev.tranche.proto.v1.FairnessSample;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.GetUsageResponse;
import dev.tranche.proto.v1.ProjectUsageSample;
import dev.tranche.proto.v1.CreateDepartmentRequest;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.Department;
import dev.tranche.proto.v1.GetQuotaRequest;
import dev.tranche.proto.v1.Gpu;
import dev.tranche.proto.v1.GpuShare;
import dev.tranche.proto.v1.ListDepartmentsRequest;
import dev.tranche.proto.v1.ListDepartmentsResponse;
import dev.tranche.proto.v1.ListNodesRequest;
import dev.tranche.proto.v1.ListNodesResponse;
import dev.tranche.proto.v1.ListProjectsRequest;
import dev.tranche.proto.v1.ListProjectsResponse;
import dev.tranche.proto.v1.ListQuotasRequest;
import dev.tranche.proto.v1.ListQuotasResponse;
import dev.tranche.proto.v1.Node;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.QuotaUsage;
import dev.tranche.proto.v1.SetDepartmentQuotaRequest;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.scheduler.inventory.ClusterUsage;
import dev.tranche.scheduler.inventory.NodeUsage;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.scheduler.project.ProjectRecord;
import dev.tranche.scheduler.security.Callers;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.usage.UsageFairness;
import dev.tranche.scheduler.usage.UsageStore;
import io.grpc.stub.StreamObserver;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/** tranche.v1.AdminService over {@link ProjectManager} and the cluster's inventory. */
public final class AdminGrpcService
        extends AdminServiceGrpc.AdminServiceImplBase
{
    private final ProjectManager projects;
    private final ClusterUsage cluster;
    private final UsageStore usage;
    private final Clock clock;

    public AdminGrpcService(ProjectManager projects, ClusterUsage cluster, UsageStore usage, Clock clock)
    {
        this.usage = requireNonNull(usage, "usage is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.projects = requireNonNull(projects, "projects is null");
        this.cluster = requireNonNull(cluster, "cluster is null");
    }

    @Override
    public void createProject(CreateProjectRequest request, StreamObserver<Project> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getProject().hasQuota()) {
                throw new IllegalArgumentException("project.quota is set with SetQuota after the project exists; leave it out here");
            }
            String department = request.getProject().getDepartment();
            return ProtoMapper.project(projects.create(request.getProject().getName(), request.getProject().getDescription(),
                    department.isEmpty() ? Optional.empty() : Optional.of(department)));
        });
    }

    @Override
    public void createDepartment(CreateDepartmentRequest request, StreamObserver<Department> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getDepartment().hasQuota()) {
                throw new IllegalArgumentException("department.quota is set with SetDepartmentQuota after the department exists; leave it out here");
            }
            return ProtoMapper.department(projects.createDepartment(request.getDepartment().getName(), request.getDepartment().getDescription()));
        });
    }

    @Override
    public void listDepartments(ListDepartmentsRequest request, StreamObserver<ListDepartmentsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            ListDepartmentsResponse.Builder response = ListDepartmentsResponse.newBuilder();
            projects.listDepartments().forEach(department -> response.addDepartments(ProtoMapper.department(department)));
            return response.build();
        });
    }

    @Override
    public void setDepartmentQuota(SetDepartmentQuotaRequest request, StreamObserver<Department> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (!request.hasQuota()) {
                throw new IllegalArgumentException("quota is required");
            }
            if (request.getQuota().hasOverQuotaWeight()) {
                throw new IllegalArgumentException("quota.over_quota_weight applies to projects, not departments");
            }
            Quota quota = request.getQuota();
            return ProtoMapper.department(projects.setDepartmentQuota(request.getDepartment(), quota.getDeservedGpus(),
                    quota.hasLimitGpus() ? OptionalDouble.of(quota.getLimitGpus()) : OptionalDouble.empty()));
        });
    }

    @Override
    public void listProjects(ListProjectsRequest request, StreamObserver<ListProjectsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            Principal caller = Callers.current();
            ListProjectsResponse.Builder response = ListProjectsResponse.newBuilder();
            projects.list().stream()
                    .filter(project -> caller.canRead(project.name()))
                    .forEach(project -> response.addProjects(ProtoMapper.project(project)));
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
        GrpcErrors.unary(observer, () -> {
            Principal caller = Callers.current();
            if (!caller.isAdmin()) {
                // before the lookup, so that a refusal does not tell whether the project exists
                Callers.requireRead(caller, request.getProject());
            }
            return ProtoMapper.project(projects.get(request.getProject())).getQuota();
        });
    }

    @Override
    public void listQuotas(ListQuotasRequest request, StreamObserver<ListQuotasResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            Map<String, Long> used = cluster.usedMilliByProject();
            Map<String, Long> pending = cluster.pendingMilliByProject();
            Principal caller = Callers.current();
            ListQuotasResponse.Builder response = ListQuotasResponse.newBuilder();
            for (ProjectRecord project : projects.list()) {
                if (!caller.canRead(project.name())) {
                    continue;
                }
                long usedMilli = used.getOrDefault(project.name(), 0L);
                response.addQuotas(QuotaUsage.newBuilder()
                        .setProject(project.name())
                        .setQuota(ProtoMapper.project(project).getQuota())
                        .setUsedGpus(usedMilli / 1000.0)
                        .setOverQuotaGpus(Math.max(0, usedMilli - project.deservedMilli()) / 1000.0)
                        .setPendingGpus(pending.getOrDefault(project.name(), 0L) / 1000.0));
            }
            return response.build();
        });
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            Principal caller = Callers.current();
            ListNodesResponse.Builder response = ListNodesResponse.newBuilder();
            for (NodeUsage usage : cluster.nodes()) {
                Node.Builder node = Node.newBuilder()
                        .setName(usage.node().name())
                        .setCpuMilli(usage.node().cpuMilli())
                        .setMemoryMib(usage.node().memoryMib())
                        .setSchedulable(usage.node().schedulable())
                        .setUsedCpuMilli(usage.usedCpuMilli())
                        .setUsedMemoryMib(usage.usedMemoryMib());
                for (dev.tranche.scheduler.core.model.Gpu gpu : usage.node().gpus()) {
                    Gpu.Builder device = Gpu.newBuilder()
                            .setIndex(gpu.index())
                            .setModel(gpu.model())
                            .setMemoryMib(gpu.memoryMib())
                            .setUsedMilli(usage.usedMilliByGpu().getOrDefault(gpu.index(), 0))
                            .setDeviceId(usage.deviceIds().getOrDefault(gpu.index(), ""));
                    usage.holders().stream()
                            .filter(holder -> holder.gpuIndex() == gpu.index())
                            // everyone sees how full a GPU is; only its project's readers see whose share it is
                            .forEach(holder -> device.addHolders(caller.canRead(holder.project())
                                    ? GpuShare.newBuilder()
                                            .setExperimentId(holder.experimentId())
                                            .setProject(holder.project())
                                            .setReplica(holder.replica())
                                            .setMilli(holder.milli())
                                    : GpuShare.newBuilder().setMilli(holder.milli())));
                    node.addGpus(device);
                }
                response.addNodes(node);
            }
            return response.build();
        });
    }

    @Override
    public void getUsage(GetUsageRequest request, StreamObserver<GetUsageResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            int days = request.getDays() == 0 ? DEFAULT_USAGE_DAYS : request.getDays();
            if (days < 1 || days > MAX_USAGE_DAYS) {
                throw new IllegalArgumentException("days must be between 1 and " + MAX_USAGE_DAYS + " (0 means " + DEFAULT_USAGE_DAYS + "): got " + request.getDays());
            }
            Principal caller = Callers.current();
            Optional<Set<String>> readable;
            if (!request.getProject().isEmpty()) {
                Callers.requireRead(caller, request.getProject());
                if (!projects.exists(request.getProject())) {
                    throw new NotFoundException("project " + request.getProject() + " does not exist");
                }
                readable = Optional.of(Set.of(request.getProject()));
            }
            else if (caller.isAdmin()) {
                readable = Optional.empty();
            }
            else {
                Set<String> names = new TreeSet<>();
                projects.list().stream().map(ProjectRecord::name).filter(caller::canRead).forEach(names::add);
                readable = Optional.of(names);
            }
            // at most ~1,440 points a series: a minute each for a day, 7 minutes for a week, 90 for 90 days
            Duration period = Duration.ofDays(days);
            UsageStore.UsageHistory history = usage.history(clock.instant().minus(period), readable, period.dividedBy(MAX_USAGE_POINTS));
            GetUsageResponse.Builder response = GetUsageResponse.newBuilder();
            history.projects().forEach(sample -> response.addProjects(ProjectUsageSample.newBuilder()
                    .setAt(ProtoMapper.timestamp(sample.at()))
                    .setProject(sample.project())
                    .setHeldGpus(sample.heldMilli() / 1000.0)
                    .setDeservedGpus(sample.deservedMilli() / 1000.0)
                    .setPending(sample.pending())
                    .setPendingGpus(sample.pendingMilli() / 1000.0)));
            UsageFairness.Fairness fairness = UsageFairness.of(history.projects(), history.step());
            fairness.hours().forEach(hour -> response.addFairness(FairnessSample.newBuilder().setAt(ProtoMapper.timestamp(hour.start())).setJain(hour.jain())));
            response.setMeanFairness(fairness.mean());
            history.cluster().forEach(sample -> response.addCluster(ClusterUsageSample.newBuilder()
                    .setAt(ProtoMapper.timestamp(sample.at()))
                    .setCapacityGpus(sample.capacityMilli() / 1000.0)
                    .setAllocatedGpus(sample.allocatedMilli() / 1000.0)));
            history.waits().forEach(wait -> response.addWaits(DailyWait.newBuilder()
                    .setDay(wait.day().toString())
                    .setProject(wait.project())
                    .setStarted(wait.started())
                    .setP50Seconds(wait.p50Seconds())
                    .setP95Seconds(wait.p95Seconds())));
            return response.build();
        });
    }

    private static final int DEFAULT_USAGE_DAYS = 7;
    private static final int MAX_USAGE_DAYS = 90;
    private static final int MAX_USAGE_POINTS = 1440;
}
