package dev.tranche.scheduler.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Token secrets: 256 random bits, stored only as SHA-256 (the secret has full entropy, so a plain
 * hash is enough; no password stretching needed). The hash's first 8 bytes are the lookup key.
 */
public final class TokenSecrets
{
    public static final String PREFIX = "trn_";
    /** Tokens given from outside (TRANCHE_ADMIN_TOKEN) must be at least this long. */
    public static final int MIN_EXTERNAL_LENGTH = 32;
    public static final int MAX_LENGTH = 512;

    private final SecureRandom random = new SecureRandom();

    public String newSecret()
    {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public String newId()
    {
        byte[] bytes = new byte[6];
        random.nextBytes(bytes);
        return "tok-" + HexFormat.of().formatHex(bytes);
    }

    public static byte[] hash(String secret)
    {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }


    public static String lookupKey(byte[] hash)
    {
        return HexFormat.of().formatHex(hash, 0, 8);
    }
}
