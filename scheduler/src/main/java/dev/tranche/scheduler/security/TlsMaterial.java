package dev.tranche.scheduler.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** A server's certificate chain and private key, read once from PEM files for both gRPC and HTTP. */
public final class TlsMaterial
{
    private static final Pattern KEY = Pattern.compile("-----BEGIN ([A-Z ]*)PRIVATE KEY-----([^-]+)-----END \\1PRIVATE KEY-----");
    private static final String CERTIFICATE_HEADER = "-----BEGIN CERTIFICATE-----";
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
        List<X509Certificate> chain = certificates(files.certificateChain());
        PrivateKey key = privateKey(files.privateKey());
        if (!belongTogether(key, chain.get(0))) {
            throw new IllegalArgumentException("--tls-key " + files.privateKey() + " is not the key of the first certificate in --tls-cert "
                    + files.certificateChain() + " (" + chain.get(0).getSubjectX500Principal().getName() + "): give the matching pair");
        }
        return new TlsMaterial(key, chain);
    }

    private static List<X509Certificate> certificates(Path file)
    {
        String pem;
        try {
            // Latin-1 reads any bytes: a binary (DER) file is then told apart by its missing PEM header
            pem = Files.readString(file, StandardCharsets.ISO_8859_1);
        }
        catch (IOException e) {
            throw new IllegalArgumentException("--tls-cert: cannot read " + file + ": " + e, e);
        }
        if (!pem.contains(CERTIFICATE_HEADER)) {
            if (KEY.matcher(pem).find()) {
                throw new IllegalArgumentException("--tls-cert " + file + " holds a private key, not a certificate: are --tls-cert and --tls-key swapped?");
            }
            throw new IllegalArgumentException("--tls-cert " + file + " holds no certificate (a PEM file with \"" + CERTIFICATE_HEADER + "\" blocks, "
                    + "the server's certificate first, then any intermediate CAs)");
        }
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.ISO_8859_1))).stream()
                    .map(X509Certificate.class::cast)
                    .toList();
            if (chain.isEmpty()) {
                throw new CertificateException("no certificate could be read");
            }
            return chain;
        }
        catch (CertificateException e) {
            throw new IllegalArgumentException("--tls-cert " + file + " is not a PEM certificate chain: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file)
    {
        String pem;
        try {
            // Latin-1 reads any bytes: a binary (DER) file is then told apart by its missing PEM header
            pem = Files.readString(file, StandardCharsets.ISO_8859_1);
        }
        catch (IOException e) {
            throw new IllegalArgumentException("--tls-key: cannot read " + file + ": " + e, e);
        }
        Matcher matcher = KEY.matcher(pem);
        if (!matcher.find()) {
            throw new IllegalArgumentException("--tls-key " + file + " holds no PEM private key (\"-----BEGIN PRIVATE KEY-----\")");
        }
        if (!matcher.group(1).isEmpty()) {
            throw new IllegalArgumentException("--tls-key " + file + " holds a \"BEGIN " + matcher.group(1) + "PRIVATE KEY\" key; Tranche reads unencrypted PKCS#8 "
                    + "(\"BEGIN PRIVATE KEY\"); convert it with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out " + file + ".pk8");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(matcher.group(2));
        }
        catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-key " + file + " is not valid PEM: " + e.getMessage(), e);
        }
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            }
            catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("--tls-key " + file + " is not an RSA, EC or Ed25519 PKCS#8 key");
    }

    /** Whether {@code key} signs what the certificate's public key verifies. */
    private static boolean belongTogether(PrivateKey key, X509Certificate certificate)
    {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm();
        };
        byte[] probe = "tranche-tls-key-check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        }
        catch (GeneralSecurityException e) {
            // a key of another algorithm than the certificate's, for one
            return false;
        }
    }

    /** Whether the server's certificate names {@code host} (a DNS name or an IP address) among its subject alternative names. */
    public boolean names(String host)
    {
        try {
            Collection<List<?>> names = chain.get(0).getSubjectAlternativeNames();
            return names != null && names.stream().anyMatch(name -> name.size() == 2 && host.equalsIgnoreCase(String.valueOf(name.get(1))));
        }
        catch (CertificateParsingException e) {
            return false;
        }
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
