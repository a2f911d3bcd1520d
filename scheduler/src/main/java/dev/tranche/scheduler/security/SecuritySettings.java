package dev.tranche.scheduler.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How the scheduler guards its door.
 *
 * @param adminToken the admin token from TRANCHE_ADMIN_TOKEN; without it the first start creates and prints one
 * @param tls certificate chain and private key (PEM) for gRPC and HTTP; without them both serve plaintext
 * @param rateLimitPerSecond requests a second per token (0: no limit); bursts of twice that pass
 * @param failedAuthenticationsPerSecond failed authentications a second per client address (0: no limit);
 *     bursts of {@value #FAILED_AUTHENTICATION_BURST_SECONDS} seconds' worth pass, then the address is refused until it slows down
 * @param datasetRoots the folders experiments may read data from; empty: the built-in data sets' and the home's datasets folder
 */
public record SecuritySettings(Optional<String> adminToken, Optional<TlsFiles> tls, double rateLimitPerSecond, double failedAuthenticationsPerSecond,
        Optional<List<Path>> datasetRoots)
{
    public static final double DEFAULT_RATE_LIMIT = 100;
    public static final double MAX_RATE_LIMIT = 1_000_000;
    public static final double DEFAULT_FAILED_AUTHENTICATIONS = 5;
    public static final int FAILED_AUTHENTICATION_BURST_SECONDS = 10;

    public SecuritySettings
    {
        requireNonNull(adminToken, "adminToken is null");
        requireNonNull(tls, "tls is null");
        datasetRoots = requireNonNull(datasetRoots, "datasetRoots is null").map(List::copyOf);
        if (!(rateLimitPerSecond >= 0 && rateLimitPerSecond <= MAX_RATE_LIMIT)) {
            throw new IllegalArgumentException("--rate-limit must be in [0, " + (long) MAX_RATE_LIMIT + "] requests a second (0: no limit): got " + rateLimitPerSecond);
        }
        if (!(failedAuthenticationsPerSecond >= 0 && failedAuthenticationsPerSecond <= MAX_RATE_LIMIT)) {
            throw new IllegalArgumentException("--failed-auth-limit must be in [0, " + (long) MAX_RATE_LIMIT + "] failures a second (0: no limit): got "
                    + failedAuthenticationsPerSecond);
        }
    }

    public static SecuritySettings defaults()
    {
        return new SecuritySettings(Optional.empty(), Optional.empty(), DEFAULT_RATE_LIMIT, DEFAULT_FAILED_AUTHENTICATIONS, Optional.empty());
    }

    public SecuritySettings withAdminToken(Optional<String> adminToken)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots);
    }

    public SecuritySettings withTls(Optional<TlsFiles> tls)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots);
    }

    public SecuritySettings withRateLimit(double rateLimitPerSecond)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots);
    }

    public SecuritySettings withFailedAuthenticationLimit(double failedAuthenticationsPerSecond)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots);
    }

    public SecuritySettings withDatasetRoots(Optional<List<Path>> datasetRoots)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots);
    }

    @Override
    public String toString()
    {
        return "SecuritySettings[adminToken=" + (adminToken.isPresent() ? "(set)" : "-") + ", tls=" + tls.map(Object::toString).orElse("off")
                + ", rateLimit=" + rateLimitPerSecond + "/s, failedAuthenticationLimit=" + failedAuthenticationsPerSecond + "/s]";
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
