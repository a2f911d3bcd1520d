package dev.tranche.scheduler.metrics;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

import static java.util.Objects.requireNonNull;

/**
 * Per-experiment credentials for workers: an HMAC of the experiment id under the scheduler's secret.
 * A credential is good for its one experiment only; nothing needs storing per experiment, and
 * checking one is a constant-time comparison.
 */
public final class WorkerCredentials
{
    private static final String PREFIX = "tw1.";

    private final SecretKeySpec key;

    public WorkerCredentials(byte[] secret)
    {
        requireNonNull(secret, "secret is null");
        if (secret.length < 32) {
            throw new IllegalArgumentException("the credential secret must have at least 256 bits");
        }
        this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
    }

    public String issue(String experimentId)
    {
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(mac(experimentId));
    }

    public boolean verify(String experimentId, String credential)
    {
        byte[] expected = issue(experimentId).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, credential.getBytes(StandardCharsets.US_ASCII));
    }

    private byte[] mac(String experimentId)
    {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(("worker:" + experimentId).getBytes(StandardCharsets.UTF_8));
        }
        catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
