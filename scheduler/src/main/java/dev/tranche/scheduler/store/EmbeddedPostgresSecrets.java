package dev.tranche.scheduler.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The passwords of the embedded PostgreSQL: one for its superuser (kept for the server's own
 * bootstrap and maintenance) and one for the role Tranche connects as. Generated at random on first
 * start and kept in a file only the scheduler's OS user can read, because anyone who can read them can
 * read every token hash in the database.
 */
public record EmbeddedPostgresSecrets(String superuserPassword, String applicationPassword)
{
    static final Set<PosixFilePermission> OWNER_ONLY_FILE = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_EXECUTE);
    private static final String SUPERUSER = "superuser";
    private static final String APPLICATION = "tranche";

    public EmbeddedPostgresSecrets
    {
        requireSafe(superuserPassword, SUPERUSER);
        requireSafe(applicationPassword, APPLICATION);
    }

    @Override
    public String toString()
    {
        return "EmbeddedPostgresSecrets[redacted]";
    }

    /** Reads the secrets in {@code file}, or generates and stores them there (mode 0600) if there are none yet. */
    public static EmbeddedPostgresSecrets loadOrCreate(Path file)
    {
        requireNonNull(file, "file is null");
        try {
            Path directory = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(directory)) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIRECTORY));
            }
            Files.setPosixFilePermissions(directory, OWNER_ONLY_DIRECTORY);
            if (Files.exists(file)) {
                return read(file);
            }
            EmbeddedPostgresSecrets secrets = new EmbeddedPostgresSecrets(randomSecret(), randomSecret());
            Path temporary = directory.resolve(file.getFileName() + ".new");
            Files.deleteIfExists(temporary);
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
            Files.writeString(temporary, "# Passwords of the embedded PostgreSQL; keep this file private (mode 0600).\n"
                    + SUPERUSER + "=" + secrets.superuserPassword + "\n" + APPLICATION + "=" + secrets.applicationPassword + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            }
            catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                Files.move(temporary, file);
            }
            return secrets;
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot keep the embedded PostgreSQL's passwords in " + file + ": " + e.getMessage(), e);
        }
    }

    private static EmbeddedPostgresSecrets read(Path file)
            throws IOException
    {
        // a copy restored from a backup may have lost its mode: tighten it rather than refuse to start
        if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY_FILE)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int equals = trimmed.indexOf('=');
            if (equals <= 0) {
                throw new IOException("line \"" + abbreviate(trimmed) + "\" is not NAME=SECRET");
            }
            values.put(trimmed.substring(0, equals), trimmed.substring(equals + 1));
        }
        if (!values.containsKey(SUPERUSER) || !values.containsKey(APPLICATION)) {
            throw new IOException("it must hold " + SUPERUSER + "=... and " + APPLICATION + "=...; move it away to generate new passwords"
                    + " only together with the database directory it belongs to");
        }
        try {
            return new EmbeddedPostgresSecrets(values.get(SUPERUSER), values.get(APPLICATION));
        }
        catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static String randomSecret()
    {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void requireSafe(String secret, String name)
    {
        requireNonNull(secret, name + " is null");
        // the secrets are written into SQL (ALTER ROLE ... PASSWORD '...'), so only a safe alphabet is allowed
        if (secret.length() < 16 || !secret.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("the " + name + " password must be at least 16 characters of A-Z, a-z, 0-9, '_' and '-'");
        }
    }

    private static String abbreviate(String text)
    {
        return text.length() <= 20 ? text.replaceAll("=.*", "=...") : text.substring(0, 20) + "...";
    }
}
