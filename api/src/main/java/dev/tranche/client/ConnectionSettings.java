package dev.tranche.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where a scheduler is and how to talk to it: its address, the bearer token to send, and TLS
 * (off, on with the system's trusted CAs, or on trusting a given CA certificate).
 */
public record ConnectionSettings(String target, Optional<String> token, boolean tls, Optional<Path> caCertificate)
{
    public ConnectionSettings
    {
        requireNonNull(target, "target is null");
        requireNonNull(token, "token is null");
        requireNonNull(caCertificate, "caCertificate is null");
        if (target.isBlank()) {
            throw new IllegalArgumentException("the scheduler address must be HOST:PORT");
        }
        token.ifPresent(value -> {
            if (value.isBlank() || !value.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new IllegalArgumentException("the token must be printable ASCII without spaces (check $TRANCHE_TOKEN or run `tranche login` again)");
            }
        });
        if (caCertificate.isPresent()) {
            if (!Files.isReadable(caCertificate.get())) {
                throw new IllegalArgumentException("cannot read the CA certificate " + caCertificate.get());
            }
            tls = true;
        }
    }

    public static ConnectionSettings plaintext(String target)
    {
        return new ConnectionSettings(target, Optional.empty(), false, Optional.empty());
    }

    public ConnectionSettings withToken(String token)
    {
        return new ConnectionSettings(target, Optional.of(token), tls, caCertificate);
    }

    ChannelCredentials credentials()
    {
        if (!tls) {
            return InsecureChannelCredentials.create();
        }
        if (caCertificate.isEmpty()) {
            return TlsChannelCredentials.create();
        }
        try {
            return TlsChannelCredentials.newBuilder().trustManager(caCertificate.get().toFile()).build();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read the CA certificate " + caCertificate.get() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString()
    {
        return "Connection[" + target + ", token=" + (token.isPresent() ? "(set)" : "none") + ", tls=" + (tls ? caCertificate.map(Path::toString).orElse("system CAs") : "off") + "]";
    }
}
