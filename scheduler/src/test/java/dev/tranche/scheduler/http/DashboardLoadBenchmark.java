package dev.tranche.scheduler.http;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.scheduler.testing.Browser;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Page load with a big database: 10,000 experiments and 1,000,000 metric points, measured in
 * headless Chromium from navigation start until the page has drawn its data. A benchmark, not a
 * test: run it with {@code ./mvnw -B -pl scheduler -am test -Dgroups=benchmark -Dtranche.excludedGroups= -Dtest=DashboardLoadBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
final class DashboardLoadBenchmark
{
    private static final int EXPERIMENTS = 10_000;
    private static final int POINTS = 1_000_000;
    private static final int RUNS = 5;

    @RegisterExtension
    final Browser browser = new Browser();

    @Test
    void pagesLoadUnderOneSecondWithTenThousandExperimentsAndAMillionPoints()
            throws Exception
    {
        try (TestingScheduler scheduler = new TestingScheduler()) {
            TrancheClient client = scheduler.client();
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<String>> ids = new ArrayList<>();
            for (int i = 0; i < EXPERIMENTS; i++) {
                ExperimentSpec spec = Specs.named("load-" + i, "default");
                ids.add(pool.submit(() -> client.submit(spec).getExperiment().getId()));
            }
            List<String> experiments = new ArrayList<>();
            for (Future<String> id : ids) {
                experiments.add(id.get());
            }
            pool.shutdown();
            // one big run (500,000 points in 3 series) and 500,000 points spread over 1,000 others
            String big = experiments.get(experiments.size() - 1);
            try (Connection connection = DriverManager.getConnection(scheduler.jdbcUrl());
                    Statement statement = connection.createStatement()) {
                statement.execute("INSERT INTO metrics SELECT '" + big + "', n, s, s / 2000 + 1, 2.3 * exp(-s / 50000.0) + random() * 0.1, now()"
                        + " FROM unnest(ARRAY['loss', 'images_per_second', 'learning_rate']) AS n, generate_series(1, " + (POINTS / 2 / 3) + ") AS s");
                statement.execute("INSERT INTO metrics SELECT e.id, 'loss', s, s / 100 + 1, random(), now()"
                        + " FROM (SELECT id FROM experiments ORDER BY seq LIMIT 1000) e, generate_series(1, " + (POINTS / 2 / 1000) + ") AS s");
                statement.execute("ANALYZE");
            }
            assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(EXPERIMENTS);
            assertThat(scheduler.count("SELECT count(*) FROM metrics")).isGreaterThanOrEqualTo(POINTS - 10);

            String base = "http://127.0.0.1:" + scheduler.httpPort();
            ChromeDriver page = browser.logIn(base, TestingScheduler.ADMIN_TOKEN);
            double[] list = measure(page, base + "/index.html");
            double[] detail = measure(page, base + "/experiment.html?id=" + big);
            System.out.printf("experiments page: %s ms (median %.0f)%n", Arrays.toString(list), median(list));
            System.out.printf("detail page (500,000-point run): %s ms (median %.0f)%n", Arrays.toString(detail), median(detail));
            assertThat(median(list)).isLessThan(1000);
            assertThat(median(detail)).isLessThan(1000);
        }
    }

    private static double[] measure(ChromeDriver page, String url)
    {
        double[] millis = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
            page.get(url);
            String loaded = new WebDriverWait(page, Duration.ofSeconds(30)).until(driver -> {
                String value = driver.findElement(By.tagName("body")).getAttribute("data-loaded-ms");
                return value == null || value.isEmpty() ? null : value;
            });
            millis[run] = Math.round(Double.parseDouble(loaded));
        }
        return millis;
    }

    private static double median(double[] values)
    {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
