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
 * @param maxWatchesPerToken watches (CLI watch, dashboard tabs) one token may hold open at once; each holds a subscription and a queue
 * @param maxConcurrentExports history exports the server runs at once, for all callers; each holds a stream and a temporary file
 */
public record SecuritySettings(Optional<String> adminToken, Optional<TlsFiles> tls, double rateLimitPerSecond, double failedAuthenticationsPerSecond,
        Optional<List<Path>> datasetRoots, int maxWatchesPerToken, int maxConcurrentExports)
{
    public static final double DEFAULT_RATE_LIMIT = 100;
    public static final double MAX_RATE_LIMIT = 1_000_000;
    public static final double DEFAULT_FAILED_AUTHENTICATIONS = 5;
    public static final int FAILED_AUTHENTICATION_BURST_SECONDS = 10;
    public static final int DEFAULT_MAX_WATCHES_PER_TOKEN = 64;
    public static final int MAX_MAX_WATCHES_PER_TOKEN = 100_000;
    public static final int DEFAULT_MAX_CONCURRENT_EXPORTS = 4;
    public static final int MAX_MAX_CONCURRENT_EXPORTS = 1_000;

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
        if (maxWatchesPerToken < 1 || maxWatchesPerToken > MAX_MAX_WATCHES_PER_TOKEN) {
            throw new IllegalArgumentException("--max-watches-per-token must be in [1, " + MAX_MAX_WATCHES_PER_TOKEN + "]: got " + maxWatchesPerToken);
        }
        if (maxConcurrentExports < 1 || maxConcurrentExports > MAX_MAX_CONCURRENT_EXPORTS) {
            throw new IllegalArgumentException("--max-concurrent-exports must be in [1, " + MAX_MAX_CONCURRENT_EXPORTS + "]: got " + maxConcurrentExports);
        }
    }

    public static SecuritySettings defaults()
    {
        return new SecuritySettings(Optional.empty(), Optional.empty(), DEFAULT_RATE_LIMIT, DEFAULT_FAILED_AUTHENTICATIONS, Optional.empty(),
                DEFAULT_MAX_WATCHES_PER_TOKEN, DEFAULT_MAX_CONCURRENT_EXPORTS);
    }

    public SecuritySettings withAdminToken(Optional<String> adminToken)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    public SecuritySettings withTls(Optional<TlsFiles> tls)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    public SecuritySettings withRateLimit(double rateLimitPerSecond)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    public SecuritySettings withFailedAuthenticationLimit(double failedAuthenticationsPerSecond)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    public SecuritySettings withDatasetRoots(Optional<List<Path>> datasetRoots)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    public SecuritySettings withStreamLimits(int maxWatchesPerToken, int maxConcurrentExports)
    {
        return new SecuritySettings(adminToken, tls, rateLimitPerSecond, failedAuthenticationsPerSecond, datasetRoots, maxWatchesPerToken, maxConcurrentExports);
    }

    @Override
    public String toString()
    {
        return "SecuritySettings[adminToken=" + (adminToken.isPresent() ? "(set)" : "-") + ", tls=" + tls.map(Object::toString).orElse("off")
                + ", rateLimit=" + rateLimitPerSecond + "/s, failedAuthenticationLimit=" + failedAuthenticationsPerSecond + "/s, maxWatchesPerToken="
                + maxWatchesPerToken + ", maxConcurrentExports=" + maxConcurrentExports + "]";
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
