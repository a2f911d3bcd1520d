package dev.tranche.scheduler.security;

import dev.tranche.testing.TestCertificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading the server's certificate chain and key, and what an operator is told when they are wrong. */
final class TlsMaterialTest
{
    @TempDir
    static Path directory;

    // two RSA key pairs: made once, they take a moment
    private static TestCertificates.Pair server;
    private static TestCertificates.Pair other;

    @BeforeAll
    static void certificates()
    {
        server = TestCertificates.selfSigned(directory.resolve("server"), "server");
        other = TestCertificates.selfSigned(directory.resolve("other"), "other");
    }

    @Test
    void loadsAPemCertificateAndPkcs8Key()
            throws Exception
    {
        TlsMaterial material = TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), server.privateKey()));
        assertThat(material.chain()).containsExactly(server.x509());
        assertThat(material.privateKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(material.privateKey().getEncoded()).isEqualTo(server.keys().getPrivate().getEncoded());
        KeyStore store = material.keyStore();
        assertThat(store.getKey("tranche", material.keyStorePassword().toCharArray())).isNotNull();
    }

    @Test
    void tellsWhichHostsTheCertificateNames()
    {
        TlsMaterial material = TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), server.privateKey()));
        // local workers dial 127.0.0.1: the scheduler warns at start when the certificate does not name it
        assertThat(material.names("127.0.0.1")).isTrue();
        assertThat(material.names("LOCALHOST")).isTrue();
        assertThat(material.names("10.0.0.7")).isFalse();
        assertThat(material.names("server")).isFalse();
    }

    @Test
    void loadsAChainOfSeveralCertificates()
            throws IOException
    {
        Path chain = write("chain.crt", Files.readString(server.certificate()) + Files.readString(other.certificate()));
        TlsMaterial material = TlsMaterial.load(new SecuritySettings.TlsFiles(chain, server.privateKey()));
        assertThat(material.chain()).containsExactly(server.x509(), other.x509());
    }

    @Test
    void missingFilesAreNamed()
    {
        Path missing = directory.resolve("nowhere.pem");
        assertThatThrownBy(() -> new SecuritySettings.TlsFiles(missing, server.privateKey()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-cert: cannot read " + missing);
        assertThatThrownBy(() -> new SecuritySettings.TlsFiles(server.certificate(), missing))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-key: cannot read " + missing);
    }

    @Test
    void filesThatVanishBeforeTheStartAreNamed()
            throws IOException
    {
        Path certificate = write("vanishing.crt", Files.readString(server.certificate()));
        SecuritySettings.TlsFiles files = new SecuritySettings.TlsFiles(certificate, server.privateKey());
        Files.delete(certificate);
        assertThatThrownBy(() -> TlsMaterial.load(files))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tls-cert: cannot read " + certificate);
    }

    @Test
    void pkcs1KeyIsRefusedWithTheConversionCommand()
            throws IOException
    {
        String pkcs1 = server.pkcs1PrivateKeyPem();
        assertThat(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        Path key = write("rsa.key", pkcs1);
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), key)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-key " + key + " holds a \"BEGIN RSA PRIVATE KEY\" key; Tranche reads unencrypted PKCS#8 (\"BEGIN PRIVATE KEY\"); "
                        + "convert it with: openssl pkcs8 -topk8 -nocrypt -in " + key + " -out " + key + ".pk8");
    }

    @Test
    void encryptedKeyIsRefusedWithTheConversionCommand()
            throws IOException
    {
        Path key = write("encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), key)))
                .hasMessageContaining("holds a \"BEGIN ENCRYPTED PRIVATE KEY\" key")
                .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void garbageKeyIsRefused()
            throws IOException
    {
        Path noPem = write("garbage.key", "this is not a key\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), noPem)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-key " + noPem + " holds no PEM private key (\"-----BEGIN PRIVATE KEY-----\")");

        String junk = Base64.getMimeEncoder().encodeToString("definitely not DER".repeat(8).getBytes(StandardCharsets.US_ASCII));
        Path badDer = write("junk.key", "-----BEGIN PRIVATE KEY-----\n" + junk + "\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), badDer)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-key " + badDer + " is not an RSA, EC or Ed25519 PKCS#8 key");

        Path badBase64 = write("base64.key", "-----BEGIN PRIVATE KEY-----\nnot*base64\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), badBase64)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tls-key " + badBase64 + " is not valid PEM");
    }

    @Test
    void certificateFileWithoutACertificateIsRefused()
            throws Exception
    {
        Path empty = write("empty.crt", "");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(empty, server.privateKey())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-cert " + empty + " holds no certificate (a PEM file with \"-----BEGIN CERTIFICATE-----\" blocks, "
                        + "the server's certificate first, then any intermediate CAs)");

        Path text = write("readme.crt", "put the certificate here\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(text, server.privateKey())))
                .hasMessageStartingWith("--tls-cert " + text + " holds no certificate");

        Path der = directory.resolve("server.der");
        Files.write(der, server.x509().getEncoded());
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(der, server.privateKey())))
                .hasMessageStartingWith("--tls-cert " + der + " holds no certificate (a PEM file");

        Path corrupt = write("corrupt.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(corrupt, server.privateKey())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tls-cert " + corrupt + " is not a PEM certificate chain: ");
    }

    @Test
    void swappedFilesAreNamedAsSuch()
    {
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.privateKey(), server.certificate())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-cert " + server.privateKey() + " holds a private key, not a certificate: are --tls-cert and --tls-key swapped?");
    }

    @Test
    void keyOfAnotherCertificateIsRefused()
    {
        assertThatThrownBy(() -> TlsMaterial.load(new SecuritySettings.TlsFiles(server.certificate(), other.privateKey())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--tls-key " + other.privateKey() + " is not the key of the first certificate in --tls-cert " + server.certificate()
                        + " (CN=server): give the matching pair");
    }

    private static Path write(String name, String content)
            throws IOException
    {
        Path file = directory.resolve(name);
        Files.writeString(file, content, StandardCharsets.US_ASCII);
        return file;
    }
}
