package dev.tranche.client;

import java.security.cert.CertificateException;
import java.util.Optional;

import javax.net.ssl.SSLException;

/** Whether a failed call failed because of TLS: a handshake or certificate error somewhere in its causes. */
public final class TlsFailures
{
    private TlsFailures() {}

    /** The innermost TLS or certificate error behind {@code failure}, if that is why it failed. */
    public static Optional<Throwable> innermost(Throwable failure)
    {
        Throwable found = null;
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < 16; cause = cause.getCause(), depth++) {
            if (cause instanceof SSLException || cause instanceof CertificateException) {
                found = cause;
            }
        }
        return Optional.ofNullable(found);
    }
}
