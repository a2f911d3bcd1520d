package dev.tranche.scheduler.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** A server's certificate chain and private key, read once from PEM files for both gRPC and HTTP. */
public final class TlsMaterial
{
    private static final Pattern KEY = Pattern.compile("-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END \\1PRIVATE KEY-----");
    private static final char[] IN_MEMORY_PASSWORD = "tranche".toCharArray();

    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;

    private TlsMaterial(PrivateKey privateKey, List<X509Certificate> chain)
    {
        this.privateKey = requireNonNull(privateKey, "privateKey is null");
        this.chain = List.copyOf(chain);
    }

    public static TlsMaterial load(SecuritySettings.TlsFiles files)
    {
        List<X509Certificate> chain;
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            chain = factory.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(files.certificateChain()))).stream()
                    .map(X509Certificate.class::cast)
                    .toList();
        }
        catch (IOException | CertificateException e) {
            throw new IllegalArgumentException("--tls-cert " + files.certificateChain() + " is not a PEM certificate chain: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("--tls-cert " + files.certificateChain() + " holds no certificate");
        }
        String pem;
        try {
            pem = Files.readString(files.privateKey(), StandardCharsets.US_ASCII);
        }
        catch (IOException e) {
            throw new IllegalArgumentException("--tls-key: cannot read " + files.privateKey() + ": " + e.getMessage(), e);
        }
        Matcher matcher = KEY.matcher(pem);
        if (!matcher.find()) {
            throw new IllegalArgumentException("--tls-key " + files.privateKey() + " holds no PEM private key");
        }
        if (!matcher.group(1).isEmpty()) {
            throw new IllegalArgumentException("--tls-key " + files.privateKey() + " is a " + matcher.group(1).strip() + " key; Tranche reads unencrypted PKCS#8 "
                    + "(\"BEGIN PRIVATE KEY\"); convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(matcher.group(2));
        PrivateKey key = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            }
            catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        if (key == null) {
            throw new IllegalArgumentException("--tls-key " + files.privateKey() + " is not an RSA, EC or Ed25519 PKCS#8 key");
        }
        return new TlsMaterial(key, chain);
    }

    public PrivateKey privateKey()
    {
        return privateKey;
    }

    public X509Certificate[] chain()
    {
        return chain.toArray(X509Certificate[]::new);
    }

    /** The pair as an in-memory key store, for Jetty. */
    public KeyStore keyStore()
    {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("tranche", privateKey, IN_MEMORY_PASSWORD, chain());
            return store;
        }
        catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a key store from the TLS key and certificate", e);
        }
    }

    public String keyStorePassword()
    {
        return new String(IN_MEMORY_PASSWORD);
    }
}
