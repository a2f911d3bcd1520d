package dev.tranche.scheduler.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.scheduler.testing.CliRun;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** tranche login/logout/whoami/token/audit against a real scheduler: what is stored, who may do what, exit codes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class TrancheCliSecurityTest
{
    private TestingScheduler scheduler;

    @TempDir
    Path files;

    @BeforeAll
    void start()
    {
        // these would take precedence over what the tests pass
        assumeThat(System.getenv("TRANCHE_TOKEN")).isNull();
        assumeThat(System.getenv("TRANCHE_SERVER")).isNull();
        scheduler = new TestingScheduler();
    }

    @AfterAll
    void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    /** The CLI in-process, with {@code stdin} as its standard input; no flags are added. */
    private static CliRun withStdin(String stdin, String... args)
    {
        return CliRun.of(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), List.of(args));
    }

    private static CliRun run(String... args)
    {
        return withStdin("", args);
    }

    /** As {@code token}, against the scheduler, with a credentials file of its own so no stored login interferes. */
    private CliRun as(String token, String... args)
    {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--server", scheduler.target(), "--token-file", tokenFile(token).toString(), "--credentials", files.resolve("unused-credentials").toString()));
        return run(all.toArray(String[]::new));
    }

    private CliRun asAdmin(String... args)
    {
        return as(TestingScheduler.ADMIN_TOKEN, args);
    }

    private Path tokenFile(String token)
    {
        try {
            Path file = Files.createTempFile(files, "token-", ".txt");
            Files.writeString(file, token + "\n");
            return file;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void loginStoresTheTokenForItsOwnerAloneAndLaterCommandsUseIt()
            throws IOException
    {
        String member = scheduler.token(Role.MEMBER, "default");
        Path credentials = files.resolve("login").resolve("credentials");

        CliRun login = withStdin(member + "\n", "login", "--server", scheduler.target(), "--credentials", credentials.toString());
        assertThat(login.code()).as(login.err()).isZero();
        assertThat(login.out()).isEqualTo("logged in to " + scheduler.target() + " as test-member (member, projects default)\n");
        assertThat(login.out() + login.err()).doesNotContain(member);
        assertThat(Files.getPosixFilePermissions(credentials)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(credentials)).contains("server=" + scheduler.target().replace(":", "\\:")).contains("token=" + member);

        // neither --server nor --token-file: both come from the stored login
        CliRun whoami = run("whoami", "--credentials", credentials.toString());
        assertThat(whoami.code()).as(whoami.err()).isZero();
        assertThat(whoami.out()).contains("Server:    " + scheduler.target() + "\n").contains("Subject:   test-member\n")
                .containsPattern("Token:     tok-[0-9a-z]+\n").contains("Role:      member\n").contains("Projects:  default\n")
                .contains("Expires:   never\n").doesNotContain(member);
        JsonObject json = JsonParser.parseString(run("whoami", "--credentials", credentials.toString(), "-o", "json").out()).getAsJsonObject();
        assertThat(json.get("subject").getAsString()).isEqualTo("test-member");
        assertThat(json.get("role").getAsString()).isEqualTo("MEMBER");
        assertThat(json.getAsJsonArray("projects").get(0).getAsString()).isEqualTo("default");
        assertThat(json.has("expires_at")).isFalse();
        CliRun list = run("list", "--credentials", credentials.toString());
        assertThat(list.code()).as(list.err()).isZero();

        // a refused second login leaves the first in place
        CliRun wrong = withStdin("not-the-token\n", "login", "--credentials", credentials.toString());
        assertThat(wrong.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(run("whoami", "--credentials", credentials.toString()).code()).isZero();

        CliRun logout = run("logout", "--credentials", credentials.toString());
        assertThat(logout.code()).isZero();
        assertThat(logout.out()).isEqualTo("logged out: deleted " + credentials + "\n");
        assertThat(credentials).doesNotExist();
        assertThat(run("logout", "--credentials", credentials.toString()).out()).isEqualTo("not logged in: " + credentials + " does not exist\n");

        CliRun afterLogout = run("whoami", "--server", scheduler.target(), "--credentials", credentials.toString());
        assertThat(afterLogout.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(afterLogout.err()).startsWith("error: UNAUTHENTICATED: ").contains("tranche login");
    }

    @Test
    void loginWithAWrongTokenStoresNothing()
    {
        Path credentials = files.resolve("wrong").resolve("credentials");
        CliRun wrong = withStdin("tok-made-up-0123456789\n", "login", "--server", scheduler.target(), "--credentials", credentials.toString(), "--token-stdin");
        assertThat(wrong.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(wrong.err()).isEqualTo("error: UNAUTHENTICATED: the token is not valid\n"
                + "the scheduler at " + scheduler.target() + " refused the token; nothing was stored\n");
        assertThat(wrong.out()).isEmpty();
        assertThat(credentials).doesNotExist();
        assertThat(credentials.getParent()).doesNotExist();

        CliRun empty = withStdin("\n", "login", "--server", scheduler.target(), "--credentials", credentials.toString());
        assertThat(empty.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(empty.err()).startsWith("error: no token on standard input");
        CliRun spaces = withStdin("two words\n", "login", "--server", scheduler.target(), "--credentials", credentials.toString());
        assertThat(spaces.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(spaces.err()).startsWith("error: the token must be printable ASCII without spaces");
        assertThat(credentials).doesNotExist();
    }

    @Test
    void theStoredTokenIsOnlySentToTheServerItWasStoredFor()
            throws Exception
    {
        Path credentials = files.resolve("scoped").resolve("credentials");
        assertThat(withStdin(TestingScheduler.ADMIN_TOKEN + "\n", "login", "--server", scheduler.target(), "--credentials", credentials.toString()).code()).isZero();

        // another server that records the authorization header of every call
        List<String> authorizations = new CopyOnWriteArrayList<>();
        Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        ServerInterceptor recorder = new ServerInterceptor()
        {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next)
            {
                authorizations.add(String.valueOf(headers.get(authorization)));
                return next.startCall(call, headers);
            }
        };
        Server other = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(new AuthServiceGrpc.AuthServiceImplBase() {}, recorder))
                .build()
                .start();
        try {
            CliRun elsewhere = run("token", "list", "--server", "127.0.0.1:" + other.getPort(), "--credentials", credentials.toString());
            assertThat(elsewhere.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
            assertThat(elsewhere.err()).startsWith("error: UNIMPLEMENTED");
            assertThat(authorizations).containsExactly("null");
        }
        finally {
            other.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertThat(run("token", "list", "--server", "127.0.0.1:" + closedPort, "--credentials", credentials.toString()).code())
                .isEqualTo(Tranche.EXIT_UNREACHABLE);
        // and to its own server it is sent
        assertThat(run("token", "list", "--credentials", credentials.toString()).out()).startsWith("ID").contains("tok-admin");
    }

    @Test
    void tokensAreCreatedListedAndRevoked()
            throws IOException
    {
        CliRun created = asAdmin("token", "create", "--subject", "alice@example.com", "--role", "member", "--project", "default", "--expires", "30d");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out()).matches("(?s)created token tok-[0-9a-z]+ for alice@example.com \\(member, projects default\\), expires \\d{4}-.* UTC\n"
                + "\n    \\S+\n\n"
                + "This secret is shown only now: .*\nRevoke it with `tranche token revoke tok-[0-9a-z]+`.\n");
        String id = created.out().substring("created token ".length()).split(" ")[0];
        String secret = created.out().split("\n")[2].strip();
        assertThat(as(secret, "whoami").out()).contains("Subject:   alice@example.com\n").contains("Token:     " + id + "\n");

        CliRun json = asAdmin("token", "create", "--subject", "ci bot", "--role", "VIEWER", "--project", "default", "--expires", "12h", "-o", "json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonObject bot = JsonParser.parseString(json.out()).getAsJsonObject();
        assertThat(bot.keySet()).startsWith("id", "secret").contains("subject", "role", "projects", "created_at", "expires_at", "created_by");
        assertThat(bot.get("subject").getAsString()).isEqualTo("ci bot");
        assertThat(bot.get("role").getAsString()).isEqualTo("VIEWER");
        assertThat(bot.get("created_by").getAsString()).isEqualTo("admin (tok-admin)");
        assertThat(as(bot.get("secret").getAsString(), "whoami", "-o", "json").out()).contains(bot.get("id").getAsString());

        CliRun list = asAdmin("token", "list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).startsWith("ID").containsPattern("ID\\s+SUBJECT\\s+ROLE\\s+PROJECTS\\s+CREATED\\s+EXPIRES\\s+LAST USED\\s+REVOKED\n")
                .containsPattern(id + "\\s+alice@example.com\\s+member\\s+default\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+-\n")
                .containsPattern("tok-admin\\s+admin\\s+admin\\s+all\\s")
                .doesNotContain(secret).doesNotContain(bot.get("secret").getAsString());
        CliRun listJson = asAdmin("token", "list", "-o", "json");
        assertThat(listJson.out()).contains(id).doesNotContain(secret).doesNotContain("\"secret\"");

        CliRun revoke = asAdmin("token", "revoke", id);
        assertThat(revoke.code()).as(revoke.err()).isZero();
        assertThat(revoke.out()).matches("revoked token " + id + " of alice@example.com \\(member, projects default\\) at \\d{4}-.* UTC\n");
        CliRun refused = as(secret, "whoami");
        assertThat(refused.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(refused.err()).startsWith("error: UNAUTHENTICATED: token " + id + " was revoked at ");

        assertThat(asAdmin("token", "list").out()).doesNotContain(id);
        assertThat(asAdmin("token", "list", "--all").out()).containsPattern(id + "\\s+alice@example.com.*\\d\\d:\\d\\d\n");
        assertThat(asAdmin("token", "revoke", id).code()).isZero();   // again: unchanged

        CliRun unknown = asAdmin("token", "revoke", "tok-000000000000");
        assertThat(unknown.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(unknown.err()).isEqualTo("error: NOT_FOUND: token tok-000000000000 does not exist\n");
        CliRun noProject = asAdmin("token", "create", "--subject", "v", "--role", "viewer");
        assertThat(noProject.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(noProject.err()).contains("INVALID_ARGUMENT").contains("a viewer token needs at least one project");
    }

    @Test
    void badTokenLifetimesAndLimitsAreUsageErrors()
    {
        for (String expires : List.of("0s", "0d0h", "banana", "-5d", "12", "3651d")) {
            CliRun run = asAdmin("token", "create", "--subject", "x", "--role", "admin", "--expires", expires);
            assertThat(run.code()).as(expires).isEqualTo(Tranche.EXIT_USAGE);
            assertThat(run.err()).as(expires).startsWith("error: Invalid value for option '--expires': ");
        }
        assertThat(asAdmin("token", "create", "--subject", "x", "--role", "admin", "--expires", "0s").err()).contains("must be more than 0");
        assertThat(asAdmin("token", "create", "--subject", "x", "--role", "admin", "--expires", "banana").err())
                .contains("a token's lifetime must be a duration such as 30d, 12h, 90m or 1d12h (units ms, s, m, h, d, w), or never: got 'banana'");
        assertThat(asAdmin("token", "create", "--subject", "x", "--role", "admin", "--expires", "3651d").err()).contains("at most 3650 days");
        CliRun role = asAdmin("token", "create", "--subject", "x", "--role", "root");
        assertThat(role.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(role.err()).startsWith("error: Invalid value for option '--role': expected one of [admin, member, viewer]");
        CliRun noSubject = asAdmin("token", "create", "--role", "admin");
        assertThat(noSubject.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(noSubject.err()).startsWith("error: Missing required option: '--subject=NAME'");
        assertThat(asAdmin("token", "revoke").code()).isEqualTo(Tranche.EXIT_USAGE);
        CliRun limit = asAdmin("audit", "--limit", "0");
        assertThat(limit.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(limit.err()).startsWith("error: --limit must be in [1, 1000]: got 0");
        assertThat(asAdmin("audit", "--limit", "1001").code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(asAdmin("audit", "--before", "0").code()).isEqualTo(Tranche.EXIT_USAGE);
        // a token lasting 90 minutes is fine
        CliRun ok = asAdmin("token", "create", "--subject", "short", "--role", "admin", "--expires", "1h30m", "-o", "json");
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    @Test
    void membersMayNotManageTokensOrReadTheAudit()
    {
        String member = scheduler.token(Role.MEMBER, "default");
        for (List<String> command : List.of(List.of("token", "create", "--subject", "me-too", "--role", "admin"), List.of("token", "list"),
                List.of("token", "revoke", "tok-admin"), List.of("audit"))) {
            CliRun run = as(member, command.toArray(String[]::new));
            assertThat(run.code()).as(command.toString()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
            assertThat(run.err()).as(command.toString()).startsWith("error: PERMISSION_DENIED: role member may not call tranche.v1.AuthService/");
        }
        assertThat(as(member, "whoami").code()).isZero();
        // tok-admin was not revoked
        assertThat(asAdmin("whoami").out()).contains("Token:     tok-admin\n");
    }

    @Test
    void auditShowsARefusalMadeJustBefore()
    {
        String member = scheduler.token(Role.MEMBER, "default");
        String memberId = JsonParser.parseString(as(member, "whoami", "-o", "json").out()).getAsJsonObject().get("id").getAsString();
        assertThat(as(member, "token", "create", "--subject", "sneaky", "--role", "admin").code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);

        // the scheduler writes audit events off the request path; listing them flushes first
        CliRun json = asAdmin("audit", "--denied", "-o", "json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonArray events = JsonParser.parseString(json.out()).getAsJsonObject().getAsJsonArray("events");
        JsonObject refusal = StreamSupport.stream(events.spliterator(), false)
                .map(JsonElement::getAsJsonObject)
                .filter(event -> event.get("actor").getAsString().equals("test-member (" + memberId + ")"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no refusal by " + memberId + " in " + json.out()));
        assertThat(refusal.get("action").getAsString()).isEqualTo("tranche.v1.AuthService/CreateToken");
        assertThat(refusal.get("outcome").getAsString()).isEqualTo("PERMISSION_DENIED");
        // what the refused call aimed at: the subject it wanted a token for
        assertThat(refusal.get("target").getAsString()).isEqualTo("sneaky");
        assertThat(refusal.get("detail").getAsString()).isEqualTo("role member may not call tranche.v1.AuthService/CreateToken; it needs admin");
        assertThat(refusal.get("remote_address").getAsString()).startsWith("127.0.0.1:");
        assertThat(refusal.get("at").getAsString()).endsWith("Z");

        CliRun table = asAdmin("audit", "--denied");
        assertThat(table.code()).isZero();
        assertThat(table.out()).containsPattern("ID\\s+TIME \\(UTC\\)\\s+ACTOR\\s+ACTION\\s+TARGET\\s+OUTCOME\\s+REMOTE\\s+DETAIL\n")
                .containsPattern(refusal.get("id").getAsString() + "\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+test-member \\(" + memberId + "\\)\\s+"
                        + "tranche.v1.AuthService/CreateToken\\s+sneaky\\s+PERMISSION_DENIED\\s+127.0.0.1:\\d+\\s+"
                        // the detail is shortened to 60 characters in the table
                        + java.util.regex.Pattern.quote("role member may not call tranche.v1.AuthService/CreateTok...") + "\n");
        assertThat(table.out().lines()).allMatch(line -> !line.contains(" OK "));

        // the admin's own successful calls are there too, and --before pages back
        CliRun created = asAdmin("token", "create", "--subject", "audited", "--role", "viewer", "--project", "default", "-o", "json");
        String createdId = JsonParser.parseString(created.out()).getAsJsonObject().get("id").getAsString();
        JsonArray page = JsonParser.parseString(asAdmin("audit", "--limit", "2", "-o", "json").out()).getAsJsonObject().getAsJsonArray("events");
        assertThat(page).hasSize(2);
        JsonObject newest = page.get(0).getAsJsonObject();
        assertThat(newest.get("action").getAsString()).isEqualTo("tranche.v1.AuthService/CreateToken");
        assertThat(newest.get("outcome").getAsString()).isEqualTo("OK");
        assertThat(newest.get("actor").getAsString()).isEqualTo("admin (tok-admin)");
        assertThat(newest.toString()).doesNotContain(JsonParser.parseString(created.out()).getAsJsonObject().get("secret").getAsString());
        long second = page.get(1).getAsJsonObject().get("id").getAsLong();
        JsonArray older = JsonParser.parseString(asAdmin("audit", "--limit", "1", "--before", Long.toString(second), "-o", "json").out())
                .getAsJsonObject().getAsJsonArray("events");
        assertThat(older).hasSize(1);
        assertThat(older.get(0).getAsJsonObject().get("id").getAsLong()).isLessThan(second);
        CliRun paged = asAdmin("audit", "--limit", "1");
        assertThat(paged.err()).matches("older events: tranche audit --before \\d+\n");
        assertThat(createdId).startsWith("tok-");
    }
}
