package dev.tranche.cli;

import dev.tranche.proto.v1.Department;
import dev.tranche.proto.v1.ListDepartmentsResponse;
import dev.tranche.proto.v1.Quota;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "departments", description = "List departments (the upper level of two-level quotas); 'create' and 'quota' change them.",
        subcommands = {DepartmentsCommand.Create.class, DepartmentsCommand.SetQuota.class})
final class DepartmentsCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Override
    public Integer call()
    {
        return client.show(spec, tranche -> ListDepartmentsResponse.newBuilder().addAllDepartments(tranche.listDepartments()).build(), (out, answer) -> {
            List<Department> departments = answer.getDepartmentsList();
            Table table = new Table("NAME", "DESERVED GPUS", "LIMIT GPUS", "DESCRIPTION");
            for (Department department : departments) {
                table.row(department.getName(), Formats.number(department.getQuota().getDeservedGpus()),
                        department.getQuota().hasLimitGpus() ? Formats.number(department.getQuota().getLimitGpus()) : "none", department.getDescription());
            }
            table.print(out);
        });
    }

    @Command(name = "create", description = "Create a department (admins); put projects in it with 'projects create --department'.")
    static final class Create
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--description")
        String description = "";

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> tranche.createDepartment(Department.newBuilder().setName(name).setDescription(description).build()),
                    (out, department) -> out.println("created department " + department.getName()));
        }
    }

    @Command(name = "quota", description = "Set a department's GPU quota, shared by all its projects (admins).")
    static final class SetQuota
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "DEPARTMENT")
        String name;

        @Option(names = "--deserved", required = true, paramLabel = "GPUS")
        double deserved;

        @Option(names = "--limit", paramLabel = "GPUS")
        Double limit;

        @Override
        public Integer call()
        {
            Quota.Builder quota = Quota.newBuilder().setDeservedGpus(deserved);
            if (limit != null) {
                quota.setLimitGpus(limit);
            }
            return client.show(spec, tranche -> tranche.setDepartmentQuota(name, quota.build()),
                    (out, department) -> out.println(name + ": " + Formats.limits(department.getQuota())));
        }
    }
}
