package dev.tranche.scheduler.http;

import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code /metrics} over real HTTP: the scheduler's own series and the JVM's health beside them. */
final class MetricsEndpointTest
{
    @Test
    void theScrapeCarriesTheJvmsHealthBesideTheSchedulersSeries()
            throws Exception
    {
        try (TestingScheduler scheduler = new TestingScheduler()) {
            HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/metrics"))
                            .header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            String scrape = response.body();
            assertThat(scrape).contains("tranche_scheduling_cycle_seconds_bucket", "tranche_gpu_idle_milli");
            // heap, collections, threads, classes, the JIT, CPU and uptime
            assertThat(scrape).contains("jvm_memory_used_bytes{area=\"heap\"", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
                    "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_count");
            assertThat(value(scrape, "jvm_compilation_time_ms_total")).isPositive();
            assertThat(value(scrape, "process_uptime_seconds")).isPositive();
            assertThat(value(scrape, "jvm_threads_live_threads")).isGreaterThan(1);
        }
    }

    private static double value(String scrape, String series)
    {
        Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(series) + "(?:\\{[^}]*\\})? (\\S+)$").matcher(scrape);
        assertThat(matcher.find()).as(series + " in the scrape").isTrue();
        return Double.parseDouble(matcher.group(1));
    }
}
