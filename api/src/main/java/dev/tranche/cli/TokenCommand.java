package dev.tranche.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.CreateTokenResponse;
import dev.tranche.proto.v1.ListTokensResponse;
import dev.tranche.proto.v1.Role;
import dev.tranche.proto.v1.Token;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.concurrent.Callable;

@Command(name = "token", description = "Create, list and revoke API tokens (admins).",
        subcommands = {TokenCommand.Create.class, TokenCommand.List.class, TokenCommand.Revoke.class})
final class TokenCommand
{
    /** The roles a token can have, as the CLI spells them. */
    enum TokenRole
    {
        admin(Role.ADMIN),
        member(Role.MEMBER),
        viewer(Role.VIEWER);

        private final Role proto;

        TokenRole(Role proto)
        {
            this.proto = proto;
        }
    }

    @Command(name = "create", description = {
            "Create a token and print its secret once: the scheduler keeps only a hash, so it cannot be shown again.",
            "Roles: admin (everything), member (submit, list, watch and cancel in its projects, read their metrics and logs), viewer (read-only in its projects)."})
    static final class Create
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--subject", required = true, paramLabel = "NAME",
                description = "Who holds it: a person or a service (1..128 letters, digits, spaces or . _ @ + -).")
        String subject;

        @Option(names = "--role", required = true, paramLabel = "ROLE", description = "${COMPLETION-CANDIDATES}.")
        TokenRole role;

        @Option(names = "--project", paramLabel = "PROJECT", split = ",",
                description = "A project the member or viewer may use; repeat or separate with commas. Admin tokens take none.")
        java.util.List<String> projects = new ArrayList<>();

        @Option(names = "--expires", paramLabel = "DURATION", converter = LifetimeConverter.class,
                description = "Lifetime, e.g. 30d, 12h, 90m, 1d12h (units s, m, h, d, w; at most 3650d), or never (default: never).")
        Duration expires = Duration.ZERO;

        @Override
        public Integer call()
        {
            CreateTokenRequest request = CreateTokenRequest.newBuilder()
                    .setSubject(subject)
                    .setRole(role.proto)
                    .addAllProjects(projects)
                    .setTtlSeconds(expires.toSeconds())
                    .build();
            CreateTokenResponse created;
            try (TrancheClient tranche = client.connect()) {
                created = tranche.createToken(request);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (client.output() == OutputFormat.json) {
                out.println(json(created));
                out.flush();
                return 0;
            }
            Token token = created.getToken();
            out.printf("created token %s for %s, expires %s%n", token.getId(), Formats.holder(token),
                    token.hasExpiresAt() ? Formats.time(token.getExpiresAt()) : "never");
            out.println();
            out.println("    " + created.getSecret());
            out.println();
            out.println("This secret is shown only now: the scheduler keeps just its hash. Hand it over safely; the holder runs `tranche login`.");
            out.printf("Revoke it with `tranche token revoke %s`.%n", token.getId());
            out.flush();
            return 0;
        }

        /** The token's fields with the id and the secret first: {"id": ..., "secret": ..., "subject": ...}. */
        static String json(CreateTokenResponse created)
        {
            JsonObject token = JsonParser.parseString(Formats.json(created.getToken())).getAsJsonObject();
            JsonObject result = new JsonObject();
            result.add("id", token.remove("id"));
            result.addProperty("secret", created.getSecret());
            token.entrySet().forEach(entry -> result.add(entry.getKey(), entry.getValue()));
            return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(result);
        }
    }

    @Command(name = "list", description = "Active tokens, or all with --all: never their secrets. Times are UTC.")
    static final class List
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--all", description = "Include revoked and expired tokens.")
        boolean all;

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> ListTokensResponse.newBuilder().addAllTokens(tranche.listTokens(all)).build(), (out, answer) -> {
                java.util.List<Token> tokens = answer.getTokensList();
                Instant now = Instant.now();
                Table table = new Table("ID", "SUBJECT", "ROLE", "PROJECTS", "CREATED", "EXPIRES", "LAST USED", "REVOKED");
                for (Token token : tokens) {
                    String expires = "never";
                    if (token.hasExpiresAt()) {
                        expires = Formats.utcMinutes(token.getExpiresAt())
                                + (token.getExpiresAt().getSeconds() <= now.getEpochSecond() ? " (expired)" : "");
                    }
                    table.row(token.getId(),
                            Formats.shorten(token.getSubject(), 32),
                            Formats.role(token.getRole()),
                            Formats.shorten(Formats.projects(token), 40),
                            Formats.utcMinutes(token.getCreatedAt()),
                            expires,
                            token.hasLastUsedAt() ? Formats.utcMinutes(token.getLastUsedAt()) : "never",
                            token.hasRevokedAt() ? Formats.utcMinutes(token.getRevokedAt()) : "-");
                }
                table.print(out);
            });
        }
    }

    @Command(name = "revoke", description = "Revoke a token: the scheduler refuses it from now on. Revoking a revoked token changes nothing.")
    static final class Revoke
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ID", description = "The token's id, e.g. tok-3f9a1c2b7d4e (see `tranche token list`).")
        String id;

        @Override
        public Integer call()
        {
            return client.show(spec, tranche -> tranche.revokeToken(id.strip()), (out, token) -> {
                out.printf("revoked token %s of %s at %s%n", token.getId(), Formats.holder(token), Formats.time(token.getRevokedAt()));
            });
        }
    }
}
