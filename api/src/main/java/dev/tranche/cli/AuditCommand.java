package dev.tranche.cli;

import dev.tranche.proto.v1.AuditEvent;
import dev.tranche.proto.v1.ListAuditEventsRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "audit", description = {
        "The audit log, newest first (admins): every admin call and every refused request, with who, what, the outcome and from where.",
        "Long columns are shortened in the table; -o json has them in full."})
final class AuditCommand
        implements Callable<Integer>
{
    static final int MAX_LIMIT = 1000;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "How many events, 1.." + MAX_LIMIT + " (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--before", paramLabel = "ID", description = "Only events older than this id: the next page.")
    Long before;

    @Option(names = "--denied", description = "Only refused requests.")
    boolean denied;

    @Override
    public Integer call()
    {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be in [1, " + MAX_LIMIT + "]: got " + limit);
        }
        if (before != null && before < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--before must be an event id (1 or more): got " + before);
        }
        ListAuditEventsRequest request = ListAuditEventsRequest.newBuilder()
                .setLimit(limit)
                .setBeforeId(before == null ? 0 : before)
                .setDeniedOnly(denied)
                .build();
        return client.show(spec, tranche -> tranche.auditEvents(request), (out, events) -> {
            if (events.getEventsCount() == 0) {
                out.println(before == null ? "No audit events." : "No audit events before " + before + ".");
                return;
            }
            Table table = new Table("ID", "TIME (UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME", "REMOTE", "DETAIL");
            for (AuditEvent event : events.getEventsList()) {
                table.row(Long.toString(event.getId()),
                        Formats.utcSeconds(event.getAt()),
                        cell(event.getActor(), 40),
                        cell(event.getAction(), 48),
                        cell(event.getTarget(), 32),
                        cell(event.getOutcome(), 20),
                        cell(event.getRemoteAddress(), 28),
                        cell(event.getDetail(), 60));
            }
            table.print(out);
            if (events.getEventsCount() == limit) {
                PrintWriter err = spec.commandLine().getErr();
                err.printf("older events: tranche audit --before %d%n", events.getEvents(events.getEventsCount() - 1).getId());
                err.flush();
            }
        });
    }

    /** One line, shortened; "-" when empty. */
    private static String cell(String value, int max)
    {
        String line = value.replaceAll("\\s+", " ").strip();
        return line.isEmpty() ? "-" : Formats.shorten(line, max);
    }
}
