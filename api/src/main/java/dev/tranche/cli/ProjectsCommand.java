package dev.tranche.cli;

import dev.tranche.proto.v1.ListProjectsResponse;
import dev.tranche.proto.v1.Project;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "projects", description = "List projects and their GPU quotas; 'projects create' adds one.",
        subcommands = ProjectsCommand.Create.class)
final class ProjectsCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Override
    public Integer call()
    {
        return client.show(spec, tranche -> ListProjectsResponse.newBuilder().addAllProjects(tranche.listProjects()).build(), (out, answer) -> {
            List<Project> projects = answer.getProjectsList();
            Table table = new Table("NAME", "DEPARTMENT", "DESERVED GPUS", "LIMIT GPUS", "WEIGHT", "DESCRIPTION");
            for (Project project : projects) {
                table.row(project.getName(),
                        project.getDepartment().isEmpty() ? "-" : project.getDepartment(),
                        Formats.number(project.getQuota().getDeservedGpus()),
                        project.getQuota().hasLimitGpus() ? Formats.number(project.getQuota().getLimitGpus()) : "none",
                        Formats.number(project.getQuota().hasOverQuotaWeight() ? project.getQuota().getOverQuotaWeight() : 1),
                        project.getDescription());
            }
            table.print(out);
        });
    }

    @Command(name = "create", description = "Create a project (admins).")
    static final class Create
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "NAME", description = "Lower-case letters, digits and '-', at most 63.")
        String name;

        @Option(names = "--description", description = "What the project is for.")
        String description = "";

        @Option(names = "--department", description = "The department it belongs to (two-level quotas); it must exist.")
        String department = "";

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> tranche.createProject(Project.newBuilder().setName(name).setDescription(description).setDepartment(department).build()), (out, project) -> {
                out.printf("created project %s (%s)%n", project.getName(), Formats.quota(project.getQuota()));
            });
        }
    }
}
