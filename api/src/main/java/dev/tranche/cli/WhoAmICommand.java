package dev.tranche.cli;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Token;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "whoami", description = "Who the scheduler takes you for: the token's subject, id, role, projects and expiry.")
final class WhoAmICommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Override
    public Integer call()
    {
        ConnectionSettings connection = client.connection();
        Token token;
        try (TrancheClient tranche = TrancheClient.connect(connection)) {
            token = tranche.whoAmI();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (client.output() == OutputFormat.json) {
            out.println(Formats.json(token));
            out.flush();
            return 0;
        }
        out.printf("Server:    %s%s%n", connection.target(), connection.tls() ? " (TLS)" : "");
        out.printf("Subject:   %s%n", token.getSubject());
        out.printf("Token:     %s%n", token.getId());
        out.printf("Role:      %s%n", Formats.role(token.getRole()));
        out.printf("Projects:  %s%n", token.getRole() == dev.tranche.proto.v1.Role.ADMIN ? "all" : String.join(", ", token.getProjectsList()));
        out.printf("Created:   %s%s%n", Formats.time(token.getCreatedAt()), token.getCreatedBy().isEmpty() ? "" : " by " + token.getCreatedBy());
        out.printf("Expires:   %s%n", token.hasExpiresAt() ? Formats.time(token.getExpiresAt()) : "never");
        out.flush();
        return 0;
    }
}
