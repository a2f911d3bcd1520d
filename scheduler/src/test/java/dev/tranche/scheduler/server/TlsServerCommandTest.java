package dev.tranche.scheduler.server;

import dev.tranche.scheduler.security.SecuritySettings;
import dev.tranche.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** `tranche server`'s TLS flags. */
final class TlsServerCommandTest
{
    @TempDir
    Path directory;

    @Test
    void certificateAndKeyGoTogether()
    {
        TestCertificates.Pair pair = TestCertificates.selfSigned(directory, "server");
        for (String[] args : new String[][] {{"--tls-cert", pair.certificate().toString()}, {"--tls-key", pair.privateKey().toString()}}) {
            ServerCommand command = new ServerCommand();
            new CommandLine(command).parseArgs(args);
            assertThatThrownBy(command::config)
                    .isInstanceOf(CommandLine.ParameterException.class)
                    .hasMessage("--tls-cert and --tls-key go together: give both or neither");
        }
    }

    @Test
    void bothFlagsTurnTlsOn()
    {
        TestCertificates.Pair pair = TestCertificates.selfSigned(directory, "server");
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--tls-cert", pair.certificate().toString(), "--tls-key", pair.privateKey().toString());
        assertThat(command.config().security().tls()).contains(new SecuritySettings.TlsFiles(pair.certificate(), pair.privateKey()));
    }

    @Test
    void unreadableFilesAreAParameterError()
    {
        TestCertificates.Pair pair = TestCertificates.selfSigned(directory, "server");
        Path missing = directory.resolve("missing.key");
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--tls-cert", pair.certificate().toString(), "--tls-key", missing.toString());
        assertThatThrownBy(command::config)
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessage("--tls-key: cannot read " + missing);
    }
}
