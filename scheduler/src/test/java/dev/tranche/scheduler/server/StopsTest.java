package dev.tranche.scheduler.server;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StopsTest
{
    @Test
    void stopsTheLastStartedFirstAndEveryPartEvenWhenOneFails()
    {
        List<String> stopped = new ArrayList<>();
        Stops stops = new Stops();
        stops.add("database", "db", () -> stopped.add("database"));
        stops.add("gRPC server", "grpc", () -> {
            stopped.add("gRPC server");
            throw new IllegalStateException("port already closed");
        });
        stops.add("scheduling loop", "loop", () -> stopped.add("scheduling loop"));

        stops.close();
        stops.close();

        assertThat(stopped).containsExactly("scheduling loop", "gRPC server", "database");
    }

    @Test
    void nothingStartsOnceStopped()
    {
        Stops stops = new Stops();
        stops.close();
        assertThatThrownBy(() -> stops.add("HTTP server", "http", () -> {}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("already stopped; cannot start HTTP server");
    }
}
