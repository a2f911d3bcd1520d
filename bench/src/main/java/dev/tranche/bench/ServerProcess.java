package dev.tranche.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * A benchmark's own scheduler, run as {@code tranche server} in a JVM of its own, as in production:
 * the benchmark's client threads and their garbage stay out of the server's heap and collector, so the
 * server's numbers (cycle times, submit latency) are the server's. Its output goes to {@code
 * server.log} in its home.
 */
final class ServerProcess
        implements AutoCloseable
{
    private static final Pattern READY = Pattern.compile("Tranche scheduler ready: gRPC on [^ ]+:(\\d+), HTTP on [^ ]+:(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    private final Process process;
    private final int grpcPort;
    private final int httpPort;

    private ServerProcess(Process process, int grpcPort, int httpPort)
    {
        this.process = process;
        this.grpcPort = grpcPort;
        this.httpPort = httpPort;
    }

    /** Starts {@code tranche server} on loopback with ephemeral ports, {@code adminToken} and no rate limit, and waits until it is ready. */
    static ServerProcess start(Path home, String adminToken, List<String> jvmFlags)
            throws IOException
    {
        requireNonNull(home, "home is null");
        requireNonNull(adminToken, "adminToken is null");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        String launcher = System.getProperty("tranche.launcher");
        if (launcher != null) {
            // the server's own flags, as ./tranche server gives them (scheduler/server.jvm.args, the one list)
            Path serverFlags = Path.of(launcher).toAbsolutePath().getParent().resolve("scheduler").resolve("server.jvm.args");
            if (!Files.isRegularFile(serverFlags)) {
                throw new IllegalStateException("the server's JVM flags are missing: " + serverFlags + " (a checkout has it beside ./tranche)");
            }
            command.add("@" + serverFlags);
            command.add("-Dtranche.launcher=" + launcher);
        }
        // the caller's flags last, so that they win, as TRANCHE_JAVA_OPTS does in ./tranche
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche", "server", "--home", home.toString(),
                "--bind", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--rate-limit", "0"));
        Path log = home.resolve("server.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("TRANCHE_ADMIN_TOKEN", adminToken);
        // the benchmark's server must not pick up another database or home from this shell
        builder.environment().keySet().removeIf(name -> name.startsWith("TRANCHE_DB_") || name.equals("TRANCHE_HOME"));
        Process process = builder.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                String output = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
                Matcher ready = READY.matcher(output);
                if (ready.find()) {
                    return new ServerProcess(process, Integer.parseInt(ready.group(1)), Integer.parseInt(ready.group(2)));
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("the benchmark's scheduler exited with " + process.exitValue() + " before it was ready:\n" + tail(output));
                }
                Thread.sleep(200);
            }
            throw new IllegalStateException("the benchmark's scheduler was not ready within " + START_TIMEOUT.toSeconds() + " s; its log:\n"
                    + tail(Files.readString(log, StandardCharsets.UTF_8)));
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while the benchmark's scheduler started", e);
        }
        catch (RuntimeException | IOException e) {
            process.destroyForcibly();
            throw e;
        }
    }

    int grpcPort()
    {
        return grpcPort;
    }

    int httpPort()
    {
        return httpPort;
    }

    /** Stops it as an operator would (SIGTERM), forcibly if it has not ended within 30 s. */
    @Override
    public void close()
    {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static String tail(String output)
    {
        String[] lines = output.split("\n");
        return String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - 20), lines.length));
    }
}
