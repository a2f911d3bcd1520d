package dev.tranche.scheduler.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How the scheduler guards its door.
 *
 * @param adminToken the admin token from TRANCHE_ADMIN_TOKEN; without it the first start creates and prints one
 * @param tls certificate chain and private key (PEM) for gRPC and HTTP; without them both serve plaintext
 * @param rateLimitPerSecond requests a second per token (0: no limit); bursts of twice that pass
 */
public record SecuritySettings(Optional<String> adminToken, Optional<TlsFiles> tls, double rateLimitPerSecond)
{
    public static final double DEFAULT_RATE_LIMIT = 100;
    public static final double MAX_RATE_LIMIT = 1_000_000;

    public SecuritySettings
    {
        requireNonNull(adminToken, "adminToken is null");
        requireNonNull(tls, "tls is null");
        if (!(rateLimitPerSecond >= 0 && rateLimitPerSecond <= MAX_RATE_LIMIT)) {
            throw new IllegalArgumentException("--rate-limit must be in [0, " + (long) MAX_RATE_LIMIT + "] requests a second (0: no limit): got " + rateLimitPerSecond);
        }
    }

    public static SecuritySettings defaults()
    {
        return new SecuritySettings(Optional.empty(), Optional.empty(), DEFAULT_RATE_LIMIT);
    }

    public SecuritySettings withAdminToken(Optional<String> adminToken)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond);
    }

    public SecuritySettings withTls(Optional<TlsFiles> tls)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond);
    }

    public SecuritySettings withRateLimit(double rateLimitPerSecond)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond);
    }

    @Override
    public String toString()
    {
        return "SecuritySettings[adminToken=" + (adminToken.isPresent() ? "(set)" : "-") + ", tls=" + tls.map(Object::toString).orElse("off")
                + ", rateLimit=" + rateLimitPerSecond + "/s]";
    }

    /** A PEM certificate chain and its PEM (PKCS#8) private key. */
    public record TlsFiles(Path certificateChain, Path privateKey)
    {
        public TlsFiles
        {
            requireNonNull(certificateChain, "certificateChain is null");
            requireNonNull(privateKey, "privateKey is null");
            if (!Files.isReadable(certificateChain)) {
                throw new IllegalArgumentException("--tls-cert: cannot read " + certificateChain);
            }
            if (!Files.isReadable(privateKey)) {
                throw new IllegalArgumentException("--tls-key: cannot read " + privateKey);
            }
        }
    }
}
