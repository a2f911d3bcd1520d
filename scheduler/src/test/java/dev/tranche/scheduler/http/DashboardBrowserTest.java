package dev.tranche.scheduler.http;

import com.google.protobuf.Timestamp;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.WaitingReason;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.testing.Browser;
import dev.tranche.scheduler.testing.MetricStreams;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in real headless Chromium against a real scheduler (gRPC, HTTP, PostgreSQL). With
 * -Dtranche.screenshots=DIR each page is also saved there (that is how docs/screenshots/ is made).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DashboardBrowserTest
{
    @RegisterExtension
    final Browser browser = new Browser();

    private TestingScheduler scheduler;
    private TrancheClient client;
    private String base;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler(Optional.of(DeclaredInventory.of(2, 4, 80 * 1024)));
        client = scheduler.client();
        base = "http://127.0.0.1:" + scheduler.httpPort();
        client.createProject(Project.newBuilder().setName("vision").build());
    }

    @AfterAll
    void stop()
    {
        browser.close();
        scheduler.close();
    }

    @Test
    void experimentsTableListsASubmittedRun()
    {
        String id = client.submit(Specs.named("listed-run", "vision")).getExperiment().getId();
        ChromeDriver page = open("/index.html");
        WebElement row = waitFor(page, By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(row.getText()).contains("listed-run").contains("vision").contains("0.5 GPU");
        save("experiments");
    }

    @Test
    void detailPageDrawsACurveThatGrowsAsMetricsArrive()
            throws Exception
    {
        String id = client.submit(Specs.named("curved-run", "vision")).getExperiment().getId();
        report(id, 1, 100);
        ChromeDriver page = open("/experiment.html?id=" + id);
        WebElement chart = waitFor(page, By.cssSelector("#chart-loss canvas"));
        assertThat(chart.isDisplayed()).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> points(page) == 100);
        report(id, 101, 250);
        await().atMost(Duration.ofSeconds(20)).until(() -> points(page) == 250);
        assertThat(page.findElement(By.id("timeline")).getText()).contains("submitted; waiting for the scheduler");
        save("experiment");
    }

    @Test
    void aWaitingExperimentShowsItsReasonCodeAndFitCounts()
    {
        // 8 whole GPUs on one node of a cluster whose nodes have 4: no cycle will ever place it
        ExperimentSpec spec = Specs.named("too-wide-run", "vision");
        spec = spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(8))).build();
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getWaiting().getReason() == WaitingReason.NEVER_FITS);

        ChromeDriver page = open("/experiment.html?id=" + id);
        WebElement counts = waitFor(page, By.id("fit-counts"));
        assertThat(page.findElement(By.cssSelector("#reason .waiting")).getText()).isEqualTo("NEVER_FITS");
        assertThat(page.findElement(By.id("gpu-time")).getText()).as("never ran: no GPU time").contains("0.00 GPU-h");
        assertThat(page.findElement(By.id("attempts")).getText()).as("never placed: no attempt").contains("none yet");
        assertThat(counts.getText()).contains("TOO_FEW_GPUS").contains("have too few GPUs").contains("nodes that fit one replica");
        assertThat(counts.findElement(By.cssSelector("tbody td.num")).getText()).isEqualTo("2");
        save("experiment-waiting");

        ChromeDriver list = open("/index.html");
        WebElement row = waitFor(list, By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(row.findElement(By.cssSelector(".waiting")).getText()).isEqualTo("NEVER_FITS");
        client.cancel(id, "done looking");
    }

    @Test
    void clusterPageShowsTheFractionAnExperimentHolds()
    {
        ExperimentSpec spec = Specs.named("quarter-run", "vision");
        spec = spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(0.25))).build();
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        ChromeDriver page = open("/cluster.html");
        WebElement share = waitFor(page, By.cssSelector(".share[data-experiment='" + id + "']"));
        assertThat(share.getAttribute("data-milli")).isEqualTo("250");
        assertThat(share.getAttribute("style")).contains("width: 25%");
        assertThat(page.findElement(By.id("total-gpus")).getText()).isEqualTo("8");
        save("cluster");
    }

    @Test
    void theUsagePageShowsWhatAProjectHeldAgainstItsShareAndHowLongWorkWaited()
    {
        client.createProject(Project.newBuilder().setName("usage-team").build());
        client.setQuota("usage-team", dev.tranche.proto.v1.Quota.newBuilder().setDeservedGpus(2).build());
        ExperimentSpec spec = Specs.named("used-run", "usage-team");
        spec = spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(1))).build();
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        scheduler.server().sampleUsage();

        ChromeDriver page = open("/usage.html");
        WebElement panel = waitFor(page, By.cssSelector(".project-usage[data-project='usage-team']"));
        assertThat(panel.findElement(By.cssSelector(".summary")).getText()).isEqualTo("Now: holds 1 of 2 deserved GPUs, 0 experiments waiting.");
        assertThat(panel.findElement(By.cssSelector(".chart canvas")).isDisplayed()).isTrue();
        assertThat(page.findElement(By.id("utilisation")).getText()).contains("% of the GPUs allocated");
        // usage-team deserves 2 and asked for 1: an hour with fairness to report, from the server's computation
        WebElement fairness = page.findElement(By.id("fairness"));
        assertThat(Integer.parseInt(fairness.getAttribute("data-hours"))).isPositive();
        assertThat(fairness.getText()).startsWith("Jain's index over projects").contains("on average over").contains("1 is perfectly fair");
        assertThat(page.findElement(By.cssSelector("#chart-fairness canvas")).isDisplayed()).isTrue();
        WebElement wait = waitFor(page, By.cssSelector("#waits tr[data-project='usage-team']"));
        assertThat(wait.getText()).contains("usage-team").contains(" s");
        // the history of the period shown, downloaded with the page's own session
        WebElement download = page.findElement(By.id("history-download"));
        assertThat(download.getAttribute("href")).matches(".*/api/v1/history\\?since=\\d{4}-\\d{2}-\\d{2}&project=$");
        Object csv = page.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + " fetch(document.getElementById('history-download').href).then(r => r.text().then(t => done(r.status + ' ' + t)), e => done('error ' + e));");
        assertThat((String) csv).startsWith("200 arrival,project,replicas,gpus,duration,priority\n");
        save("usage");
        client.cancel(id, "done measuring");
    }

    @Test
    void anAdminChangesAQuotaAndThePageAndTheApiAgree()
    {
        client.createProject(Project.newBuilder().setName("speech").build());
        ChromeDriver page = open("/quotas.html");
        waitFor(page, By.cssSelector("tr[data-project='speech'] button.edit")).click();
        page.findElement(By.id("quota-deserved")).clear();
        page.findElement(By.id("quota-deserved")).sendKeys("3");
        page.findElement(By.id("quota-limit")).clear();
        page.findElement(By.id("quota-limit")).sendKeys("5.5");
        page.findElement(By.id("quota-save")).click();
        // the table is drawn again after the save: a row found just before that goes stale, so look again
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(StaleElementReferenceException.class)
                .until(() -> page.findElement(By.cssSelector("tr[data-project='speech'] .deserved")).getText().equals("3"));
        assertThat(page.findElement(By.cssSelector("tr[data-project='speech'] .limit")).getText()).isEqualTo("5.5");
        assertThat(client.getQuota("speech").getDeservedGpus()).isEqualTo(3);
        assertThat(client.getQuota("speech").getLimitGpus()).isEqualTo(5.5);
        save("quotas");
    }

    @Test
    void aBadFormValueShowsTheApisMessage()
    {
        long before = scheduler.count("SELECT count(*) FROM experiments");
        ChromeDriver page = open("/index.html");
        // the form shows once the page knows the token may submit
        WebElement form = waitFor(page, By.id("submit-form"));
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> form.isDisplayed());
        new Select(page.findElement(By.name("gpu_kind"))).selectByValue("fraction");
        WebElement amount = page.findElement(By.name("gpu_amount"));
        amount.clear();
        amount.sendKeys("1.5");
        page.findElement(By.id("submit")).click();
        WebElement result = new WebDriverWait(page, Duration.ofSeconds(10)).until(driver -> {
            WebElement element = driver.findElement(By.id("submit-result"));
            return element.getText().contains("must") ? element : null;
        });
        assertThat(result.getText()).isEqualTo("resources.gpu.fraction must be in (0, 1]: got 1.5");
        assertThat(result.getAttribute("class")).contains("error");
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(before);
    }

    /** Opens a page, logging in through the login page first when the browser has no session yet. */
    private ChromeDriver open(String path)
    {
        ChromeDriver page = browser.driver();
        page.get(base + path);
        if (page.getCurrentUrl().contains("/login.html")) {
            browser.logIn(base, TestingScheduler.ADMIN_TOKEN);
            page.get(base + path);
        }
        return page;
    }

    private static void logIn(ChromeDriver page, String token)
    {
        WebElement field = waitFor(page, By.id("token"));
        field.clear();
        field.sendKeys(token);
        page.findElement(By.id("sign-in")).click();
    }

    @Test
    void aPageWithoutASessionAsksForATokenAndRefusesAWrongOne()
    {
        ChromeDriver page = browser.driver();
        page.manage().deleteAllCookies();
        page.get(base + "/quotas.html");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.getCurrentUrl().contains("/login.html"));
        logIn(page, "trn_not-a-real-token");
        WebElement error = new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> {
            WebElement shown = driver.findElement(By.id("login-error"));
            return shown.isDisplayed() ? shown : null;
        });
        assertThat(error.getText()).contains("not valid");
        // the session cookie is HttpOnly: the page's scripts cannot read the token
        String viewer = scheduler.token(Role.VIEWER, "vision");
        logIn(page, viewer);
        // the deep link it was asked for, kept through the login page
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.getCurrentUrl().endsWith("/quotas.html"));
        assertThat(page.executeScript("return document.cookie")).isEqualTo("");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("who")).getText().contains("test-viewer (viewer)"));
        page.manage().deleteAllCookies();
    }

    private static WebElement waitFor(ChromeDriver page, By selector)
    {
        return new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> {
            List<WebElement> found = driver.findElements(selector);
            return found.isEmpty() ? null : found.get(0);
        });
    }

    private static int points(ChromeDriver page)
    {
        String points = page.findElement(By.id("chart-loss")).getAttribute("data-points");
        return points == null ? -1 : Integer.parseInt(points);
    }

    private void save(String name)
    {
        String directory = System.getProperty("tranche.screenshots");
        if (directory != null) {
            browser.screenshot(Path.of(directory, name + ".png"));
        }
    }

    private void report(String id, long fromStep, long toStep)
            throws Exception
    {
        List<MetricPoint> points = new ArrayList<>();
        for (long step = fromStep; step <= toStep; step++) {
            points.add(MetricPoint.newBuilder().setName("loss").setStep(step).setEpoch((int) ((step - 1) / 125) + 1)
                    .setValue(2.3 * Math.exp(-step / 80.0) + 0.3).setAt(Timestamp.newBuilder().setSeconds(1_790_000_000L + step)).build());
            points.add(MetricPoint.newBuilder().setName("images_per_second").setStep(step).setEpoch((int) ((step - 1) / 125) + 1)
                    .setValue(320 + (step % 7)).setAt(Timestamp.newBuilder().setSeconds(1_790_000_000L + step)).build());
            if (step % 125 == 0) {
                points.add(MetricPoint.newBuilder().setName("test_accuracy").setStep(step).setEpoch((int) (step / 125))
                        .setValue(0.8 + step / 5000.0).setAt(Timestamp.newBuilder().setSeconds(1_790_000_000L + step)).build());
            }
        }
        MetricStreams.report(scheduler.target(), List.of(MetricBatch.newBuilder().setExperimentId(id)
                .setCredential(scheduler.server().workerCredential(id)).addAllPoints(points).build()));
    }
}
