package dev.tranche.cli;

import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.QuotaUsage;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "quota", description = "Show or set a project's GPU quota.",
        subcommands = {QuotaCommand.List.class, QuotaCommand.Get.class, QuotaCommand.Set.class})
final class QuotaCommand
{
    @Command(name = "list", description = "Every project's quota and what it uses now: deserved, used, over quota, pending.")
    static final class List
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> tranche.listQuotas(), (out, quotas) -> {
                Table table = new Table("PROJECT", "DESERVED", "LIMIT", "WEIGHT", "USED", "OVER QUOTA", "PENDING");
                for (QuotaUsage usage : quotas.getQuotasList()) {
                    table.row(usage.getProject(),
                            Formats.number(usage.getQuota().getDeservedGpus()),
                            usage.getQuota().hasLimitGpus() ? Formats.number(usage.getQuota().getLimitGpus()) : "none",
                            Formats.number(usage.getQuota().getOverQuotaWeight()),
                            Formats.number(usage.getUsedGpus()),
                            Formats.number(usage.getOverQuotaGpus()),
                            Formats.number(usage.getPendingGpus()));
                }
                table.print(out);
            });
        }
    }

    @Command(name = "get", description = "Show a project's quota.")
    static final class Get
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "PROJECT")
        String project;

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> tranche.getQuota(project), (out, quota) -> out.println(project + ": " + Formats.quota(quota)));
        }
    }

    @Command(name = "set", description = "Set a project's quota (admins): any of --deserved, --limit, --weight; the others stay as they are.")
    static final class Set
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "PROJECT")
        String project;

        @Option(names = "--deserved", paramLabel = "GPUS", description = "Guaranteed GPUs (fractions allowed).")
        Double deserved;

        @Option(names = "--limit", paramLabel = "GPUS", description = "Hard cap including borrowed idle GPUs; 'none' removes it.")
        String limit;

        @Option(names = "--weight", paramLabel = "W", description = "Share of idle GPUs relative to other projects (1 when never set).")
        Double weight;

        @Override
        public Integer call()
        {
            if (deserved == null && limit == null && weight == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "nothing to set: pass --deserved, --limit or --weight (or several)");
            }
            Double limitGpus = null;
            if (limit != null && !limit.equalsIgnoreCase("none")) {
                try {
                    limitGpus = Double.valueOf(limit.strip());
                }
                catch (NumberFormatException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be a number of GPUs or 'none': got '" + limit + "'");
                }
            }
            Double newLimit = limitGpus;
            return client.show(spec, tranche -> {
                // the service replaces the whole quota: start from the current one so what was not named stays
                Quota.Builder quota = tranche.getQuota(project).toBuilder();
                if (deserved != null) {
                    quota.setDeservedGpus(deserved);
                }
                if (limit != null) {
                    if (newLimit == null) {
                        quota.clearLimitGpus();
                    }
                    else {
                        quota.setLimitGpus(newLimit);
                    }
                }
                if (weight != null) {
                    quota.setOverQuotaWeight(weight);
                }
                return tranche.setQuota(project, quota.build());
            }, (out, updated) -> out.println(project + ": " + Formats.quota(updated.getQuota())));
        }
    }
}
