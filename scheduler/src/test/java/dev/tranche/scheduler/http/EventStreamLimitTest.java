package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.scheduler.testing.Browser;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A watch the server refuses (the token already holds as many as {@code --max-watches-per-token}
 * allows) tells the event stream's reader why, over real HTTP and in real Chromium, instead of
 * ending a stream the browser would silently reopen every few seconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class EventStreamLimitTest
{
    private static final String REFUSAL = "at most 1 watch may be open at once with one token; close one (each dashboard tab holds one) and watch again";

    @RegisterExtension
    final Browser browser = new Browser();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private TestingScheduler scheduler;
    private String base;
    private InputStream held;

    @BeforeAll
    void start()
            throws Exception
    {
        scheduler = TestingScheduler.withSecurity(security -> security.withStreamLimits(1, 4));
        base = "http://127.0.0.1:" + scheduler.httpPort();
        // the token's one watch, held for the whole class (a stream's server side learns that its
        // reader left only when it next writes, so a closed one would not free the place at once)
        HttpResponse<InputStream> first = events();
        assertThat(first.statusCode()).isEqualTo(200);
        held = first.body();
    }

    @AfterAll
    void stop()
            throws IOException
    {
        browser.close();
        if (held != null) {
            held.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private HttpResponse<InputStream> events()
            throws IOException, InterruptedException
    {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/events?skip_current=true"))
                .header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN)
                .header("Accept", "text/event-stream")
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void aRefusedWatchEndsWithAnEventThatSaysWhy()
            throws Exception
    {
        HttpResponse<InputStream> second = events();
        assertThat(second.statusCode()).isEqualTo(200);
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(second.body(), StandardCharsets.UTF_8))) {
            // the stream ends after its one event: reading to the end proves it closed too
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        }
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("event: watch-ended");
        assertThat(lines.get(1)).startsWith("data: ");
        JsonObject ended = JsonParser.parseString(lines.get(1).substring("data: ".length())).getAsJsonObject();
        assertThat(ended.get("code").getAsString()).isEqualTo("RESOURCE_EXHAUSTED");
        assertThat(ended.get("message").getAsString()).isEqualTo(REFUSAL);
        assertThat(ended.get("retry").getAsBoolean()).isFalse();
    }

    @Test
    void theDashboardSaysWhyItIsNotLiveAndStopsRetrying()
    {
        ChromeDriver page = browser.driver();
        page.get(base + "/index.html");
        if (page.getCurrentUrl().contains("/login.html")) {
            browser.logIn(base, TestingScheduler.ADMIN_TOKEN);
            page.get(base + "/index.html");
        }
        WebElement banner = new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("live-ended")));
        assertThat(banner.getText()).isEqualTo("Live updates stopped: " + REFUSAL + " Reload");
        assertThat(banner.getAttribute("class")).contains("error");
        assertThat(page.findElement(By.id("live")).getText()).isEqualTo("not live");
        // closed, not reconnecting: an EventSource left open would try again within seconds
        Object closed = page.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                setTimeout(() => done(document.getElementById("live").textContent), 4000);
                """);
        assertThat(closed).isEqualTo("not live");
    }
}
