package dev.tranche.scheduler.security;

import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The access rule of every gRPC method, in one table. A method missing here is refused (and the
 * authorization matrix test fails), so a new method cannot ship open by accident.
 */
public final class AccessPolicy
{
    private final Map<String, AccessRule> methods;

    private AccessPolicy(Map<String, AccessRule> methods)
    {
        this.methods = Map.copyOf(methods);
    }

    public static AccessPolicy standard()
    {
        Map<String, AccessRule> rules = new HashMap<>();
        put(rules, ExperimentServiceGrpc.getSubmitMethod(), AccessRule.MEMBER);
        put(rules, ExperimentServiceGrpc.getGetMethod(), AccessRule.VIEWER);
        put(rules, ExperimentServiceGrpc.getListMethod(), AccessRule.VIEWER);
        put(rules, ExperimentServiceGrpc.getCancelMethod(), AccessRule.MEMBER);
        put(rules, ExperimentServiceGrpc.getWatchMethod(), AccessRule.VIEWER);
        put(rules, ExperimentServiceGrpc.getGetLogsMethod(), AccessRule.VIEWER);
        put(rules, ExperimentServiceGrpc.getExportHistoryMethod(), AccessRule.VIEWER);

        put(rules, MetricsServiceGrpc.getReportMethod(), AccessRule.WORKER);
        put(rules, MetricsServiceGrpc.getGetMethod(), AccessRule.VIEWER);

        put(rules, AdminServiceGrpc.getCreateProjectMethod(), AccessRule.ADMIN);
        put(rules, AdminServiceGrpc.getListProjectsMethod(), AccessRule.VIEWER);
        put(rules, AdminServiceGrpc.getSetQuotaMethod(), AccessRule.ADMIN);
        put(rules, AdminServiceGrpc.getGetQuotaMethod(), AccessRule.VIEWER);
        put(rules, AdminServiceGrpc.getListQuotasMethod(), AccessRule.VIEWER);
        put(rules, AdminServiceGrpc.getCreateDepartmentMethod(), AccessRule.ADMIN);
        put(rules, AdminServiceGrpc.getListDepartmentsMethod(), AccessRule.VIEWER);
        put(rules, AdminServiceGrpc.getSetDepartmentQuotaMethod(), AccessRule.ADMIN);
        put(rules, AdminServiceGrpc.getListNodesMethod(), AccessRule.VIEWER);
        put(rules, AdminServiceGrpc.getGetUsageMethod(), AccessRule.VIEWER);

        put(rules, AuthServiceGrpc.getWhoAmIMethod(), AccessRule.VIEWER);
        put(rules, AuthServiceGrpc.getCreateTokenMethod(), AccessRule.ADMIN);
        put(rules, AuthServiceGrpc.getListTokensMethod(), AccessRule.ADMIN);
        put(rules, AuthServiceGrpc.getRevokeTokenMethod(), AccessRule.ADMIN);
        put(rules, AuthServiceGrpc.getListAuditEventsMethod(), AccessRule.ADMIN);

        // probes run without a token; reflection describes the API to anyone signed in
        HealthGrpc.getServiceDescriptor().getMethods().forEach(method -> put(rules, method, AccessRule.PUBLIC));
        put(rules, ServerReflectionGrpc.getServerReflectionInfoMethod(), AccessRule.VIEWER);
        return new AccessPolicy(rules);
    }

    private static void put(Map<String, AccessRule> rules, MethodDescriptor<?, ?> method, AccessRule rule)
    {
        rules.put(method.getFullMethodName(), rule);
    }

    public Optional<AccessRule> ruleFor(String fullMethodName)
    {
        return Optional.ofNullable(methods.get(fullMethodName));
    }

    public Map<String, AccessRule> rules()
    {
        return methods;
    }
}
