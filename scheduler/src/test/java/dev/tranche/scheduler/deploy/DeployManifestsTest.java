package dev.tranche.scheduler.deploy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** deploy/kubernetes renders with kubectl's kustomize, and asks for no more RBAC than it needs. */
final class DeployManifestsTest
{
    private static final Path DEPLOY = Path.of("..", "deploy", "kubernetes");

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "external-database"})
    void rendersWithTheSchedulerItsLeastRbacAndADatabase(String variant)
            throws IOException, InterruptedException
    {
        String rendered = kustomize(DEPLOY.resolve(variant));
        assertThat(rendered).contains("kind: Deployment", "name: tranche-scheduler", "serviceAccountName: tranche-scheduler",
                "kind: ClusterRole", "kind: Role", "name: tranche-database", "namespace: tranche", "path: /healthz");
        assertThat(rendered).doesNotContain("'*'", "\"*\"", "- '*'", "cluster-admin");
        // GPU reservation pods: their service account, patch-only Role and priority class (cluster-scoped: no namespace)
        assertThat(rendered).contains("name: tranche-gpu-reservation", "kind: PriorityClass", "preemptionPolicy: Never");
        if (variant.equals("postgres")) {
            assertThat(rendered).contains("kind: StatefulSet", "jdbc:postgresql://tranche-postgres:5432/tranche");
        }
        else {
            assertThat(rendered).doesNotContain("kind: StatefulSet").contains("jdbc:postgresql://db.example.internal:5432/tranche");
        }
    }

    private static String kustomize(Path directory)
            throws IOException, InterruptedException
    {
        Assumptions.assumeTrue(onPath("kubectl"), "kubectl is not installed (.ci/run installs Debian's kubernetes-client)");
        Process process = new ProcessBuilder("kubectl", "kustomize", directory.toString()).redirectErrorStream(false).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(err).isZero();
        return out;
    }

    private static boolean onPath(String command)
    {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(directory, command))) {
                return true;
            }
        }
        return false;
    }
}
