package dev.tranche.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.Role;
import dev.tranche.proto.v1.Token;
import dev.tranche.proto.v1.Waiting;
import dev.tranche.spec.Numbers;

import java.io.UncheckedIOException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the CLI shows values: one place, so every command shows a GPU request or an age alike. */
final class Formats
{
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MINUTES = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);

    private Formats() {}

    static String json(MessageOrBuilder message)
    {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().print(message);
        }
        catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }

    /** One message on one line (JSON lines), field names as in the .proto file. */
    static String jsonLine(MessageOrBuilder message)
    {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace().print(message);
        }
        catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }

    /** "0.5 GPU", "2 GPUs", "12288 MiB GPU", "-" for none; replicas multiply it: "2 x 0.5 GPU". */
    static String gpus(ExperimentSpec spec)
    {
        String one = gpu(spec.getResources().getGpu(), spec.getResources().hasGpu());
        if (one.equals("-")) {
            return one;
        }
        int replicas = Math.max(1, spec.getReplicas());
        return replicas == 1 ? one : replicas + " x " + one;
    }

    static String gpu(GpuRequest gpu, boolean present)
    {
        if (!present) {
            return "-";
        }
        String amount = switch (gpu.getAmountCase()) {
            case FRACTION -> number(gpu.getFraction()) + " GPU";
            case COUNT -> gpu.getCount() + (gpu.getCount() == 1 ? " GPU" : " GPUs");
            case MEMORY_MIB -> gpu.getMemoryMib() + " MiB GPU";
            case AMOUNT_NOT_SET -> "-";
        };
        return gpu.getModelsCount() == 0 ? amount : amount + " (" + String.join("|", gpu.getModelsList()) + ")";
    }

    static String quota(Quota quota)
    {
        return limits(quota) + ", weight " + number(quota.hasOverQuotaWeight() ? quota.getOverQuotaWeight() : 1);
    }

    /** "deserved 4, limit 8": a department's quota, which has no weight. */
    static String limits(Quota quota)
    {
        return "deserved " + number(quota.getDeservedGpus()) + ", limit " + (quota.hasLimitGpus() ? number(quota.getLimitGpus()) : "none");
    }

    /** The state an experiment came from: "-" for its first transition, which comes from none. */
    static String fromState(ExperimentState state)
    {
        return state == ExperimentState.EXPERIMENT_STATE_UNSPECIFIED ? "-" : state.name();
    }

    /** "1 epoch", "3 epochs": a count with its noun in the right number. */
    static String count(long n, String singular)
    {
        return count(n, singular, singular + "s");
    }

    static String count(long n, String singular, String plural)
    {
        return n + " " + (n == 1 ? singular : plural);
    }

    static String number(double value)
    {
        return Numbers.plain(value);
    }

    static String time(Timestamp timestamp)
    {
        return TIME.format(instant(timestamp));
    }

    /** "2026-11-26 07:04:02", UTC, for table columns whose header says so. */
    static String utcSeconds(Timestamp timestamp)
    {
        return SECONDS.format(instant(timestamp));
    }

    /** "2026-11-26 07:04", UTC, for table columns whose header says so. */
    static String utcMinutes(Timestamp timestamp)
    {
        return MINUTES.format(instant(timestamp));
    }

    /** "admin", "member", "viewer". */
    static String role(Role role)
    {
        return switch (role) {
            case ADMIN -> "admin";
            case MEMBER -> "member";
            case VIEWER -> "viewer";
            case ROLE_UNSPECIFIED, UNRECOGNIZED -> "unknown";
        };
    }

    /** What a token reaches: "all" for an admin's, else its projects. */
    static String projects(Token token)
    {
        if (token.getRole() == Role.ADMIN) {
            return "all";
        }
        return token.getProjectsCount() == 0 ? "-" : String.join(",", token.getProjectsList());
    }

    /** "alice (member, projects vision, nlp)" or "root (admin, all projects)". */
    static String holder(Token token)
    {
        return token.getSubject() + " (" + role(token.getRole()) + ", "
                + (token.getRole() == Role.ADMIN ? "all projects" : "projects " + String.join(", ", token.getProjectsList())) + ")";
    }

    /** Age in the largest unit that fits, kubectl-style: 45s, 12m, 3h, 5d. */
    static String age(Timestamp since, Instant now)
    {
        Duration age = Duration.between(instant(since), now);
        long seconds = Math.max(0, age.getSeconds());
        if (seconds < 120) {
            return seconds + "s";
        }
        if (seconds < 2 * 3600) {
            return seconds / 60 + "m";
        }
        if (seconds < 2 * 86400) {
            return seconds / 3600 + "h";
        }
        return seconds / 86400 + "d";
    }

    static String shorten(String text, int max)
    {
        return text.length() <= max ? text : text.substring(0, max - 3) + "...";
    }

    private static Instant instant(Timestamp timestamp)
    {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    /**
     * ", nodes failing a check for one replica: INSUFFICIENT_GPU 12, INSUFFICIENT_CPU 3; 0 nodes fit one"
     * for a wait the fit checks explain, else nothing (the reason line says the rest in words).
     */
    static String fitCounts(Waiting waiting)
    {
        if (waiting.getNodesFailingCount() == 0 && waiting.getFittingNodes() == 0) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        if (waiting.getNodesFailingCount() > 0) {
            text.append(", nodes failing a check for one replica: ");
            text.append(String.join(", ", waiting.getNodesFailingList().stream().map(failing -> failing.getCheck() + " " + failing.getNodes()).toList()));
            text.append(';');
        }
        else {
            text.append(',');
        }
        text.append(' ').append(count(waiting.getFittingNodes(), "node")).append(waiting.getFittingNodes() == 1 ? " fits" : " fit").append(" one");
        return text.toString();
    }

    /** GPU-hours with two decimals, by arithmetic: 7,200 GPU-seconds is "2.00". */
    static String gpuHours(long gpuSeconds)
    {
        long hundredths = (gpuSeconds * 100 + 1_800) / 3_600;
        return hundredths / 100 + "." + (hundredths % 100 < 10 ? "0" : "") + hundredths % 100;
    }
}
