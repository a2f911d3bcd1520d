package dev.tranche.scheduler.metrics;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Per-experiment credentials for workers: the experiment id and an HMAC of it under the scheduler's
 * secret ("tw1.<id, base64url>.<mac>"). A credential is good for its one experiment only, and only
 * while that experiment has not ended (the metrics service checks its state); nothing needs storing
 * per experiment, and checking one is a constant-time comparison.
 */
public final class WorkerCredentials
{
    /** The row of scheduler_secrets that holds the key. */
    public static final String SECRET_NAME = "worker-credentials";
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
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        return PREFIX + base64.encodeToString(experimentId.getBytes(StandardCharsets.UTF_8)) + "." + base64.encodeToString(mac(experimentId));
    }

    public boolean verify(String experimentId, String credential)
    {
        byte[] expected = issue(experimentId).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, credential.getBytes(StandardCharsets.UTF_8));
    }

    public static boolean looksLikeOne(String secret)
    {
        return secret.startsWith(PREFIX);
    }

    /** The experiment a valid credential belongs to; empty for anything else. */
    public Optional<String> experimentOf(String credential)
    {
        if (!looksLikeOne(credential)) {
            return Optional.empty();
        }
        int dot = credential.indexOf('.', PREFIX.length());
        if (dot < 0) {
            return Optional.empty();
        }
        String experimentId;
        try {
            experimentId = new String(Base64.getUrlDecoder().decode(credential.substring(PREFIX.length(), dot)), StandardCharsets.UTF_8);
        }
        catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return verify(experimentId, credential) ? Optional.of(experimentId) : Optional.empty();
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
