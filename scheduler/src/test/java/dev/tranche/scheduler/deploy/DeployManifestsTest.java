package dev.tranche.scheduler.deploy;

import dev.tranche.testing.Prerequisites;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/kubernetes renders with kubectl's kustomize, asks for no more RBAC than it needs, and names
 * the images deploy/images/build makes.
 */
final class DeployManifestsTest
{
    private static final Path DEPLOY = Path.of("..", "deploy", "kubernetes");
    private static final Path BUILD = Path.of("..", "deploy", "images", "build");
    // the one image the manifests name that Tranche does not build: the in-cluster database of ../postgres
    private static final Set<String> THIRD_PARTY = Set.of("postgres:16");
    private static final Pattern IMAGE = Pattern.compile("(?m)^\\s*(?:- )?(?:image|TRANCHE_WORKER_IMAGE): *(\\S+) *$");

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "external-database"})
    void rendersWithTheSchedulerItsLeastRbacAndADatabase(String variant)
            throws IOException, InterruptedException
    {
        String rendered = kustomize(DEPLOY.resolve(variant));
        assertThat(rendered).contains("kind: Deployment", "name: tranche-scheduler", "serviceAccountName: tranche-scheduler",
                "kind: ClusterRole", "kind: Role", "name: tranche-database", "namespace: tranche");
        // a database outage must not restart every scheduler: liveness asks only whether the process serves
        assertThat(rendered).containsPattern("(?s)livenessProbe:(?:(?!Probe:).)*?path: /livez\\b")
                .containsPattern("(?s)readinessProbe:(?:(?!Probe:).)*?path: /readyz\\b")
                .doesNotContainPattern("(?s)livenessProbe:(?:(?!Probe:).)*?path: /(?:readyz|healthz)\\b");
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

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "external-database"})
    void everyTrancheImageTheManifestsNameIsOneTheBuildMakes(String variant)
            throws IOException, InterruptedException
    {
        Set<String> named = new TreeSet<>();
        Matcher matcher = IMAGE.matcher(kustomize(DEPLOY.resolve(variant)));
        while (matcher.find()) {
            named.add(matcher.group(1));
        }
        // podman keeps a local image as localhost/NAME:TAG; a cluster's runtime knows it by NAME:TAG
        // once loaded, or by YOUR-REGISTRY/NAME:TAG through the overlay in docs/kubernetes.md
        Set<String> built = new TreeSet<>(run("bash", BUILD.toString(), "--list").lines().map(image -> image.replaceFirst("^localhost/", "")).toList());
        String version = projectVersion();
        assertThat(built).hasSize(2).allMatch(image -> image.matches("tranche-(scheduler|worker):" + Pattern.quote(version)));
        Set<String> ours = new TreeSet<>(named);
        ours.removeAll(THIRD_PARTY);
        // both images, the scheduler's Deployment and the worker pods' (TRANCHE_WORKER_IMAGE), and nothing else
        assertThat(ours).isEqualTo(built);
    }

    /** The version in the root pom, which the build script tags the images with. */
    private static String projectVersion()
            throws IOException
    {
        Matcher version = Pattern.compile("(?m)^  <version>([^<]+)</version>").matcher(Files.readString(Path.of("..", "pom.xml")));
        assertThat(version.find()).isTrue();
        return version.group(1);
    }

    private static String kustomize(Path directory)
            throws IOException, InterruptedException
    {
        Prerequisites.require(onPath("kubectl"), "kubectl is not installed (.ci/run installs Debian's kubernetes-client)");
        return run("kubectl", "kustomize", directory.toString());
    }

    private static String run(String... command)
            throws IOException, InterruptedException
    {
        Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(false).start();
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
