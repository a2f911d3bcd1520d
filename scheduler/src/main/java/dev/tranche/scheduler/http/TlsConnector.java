package dev.tranche.scheduler.http;

import dev.tranche.scheduler.security.TlsMaterial;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** The HTTPS connector the scheduler listens on when it has a certificate: TLS with the same key store as gRPC. */
final class TlsConnector
{
    private TlsConnector() {}

    static ServerConnector create(Server server, HttpConfiguration httpConfiguration, TlsMaterial material, String host, int port)
    {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(material.keyStore());
        ssl.setKeyStorePassword(material.keyStorePassword());
        HttpConfiguration https = new HttpConfiguration(httpConfiguration);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        // clients reach the scheduler by IP as often as by name
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }
}
