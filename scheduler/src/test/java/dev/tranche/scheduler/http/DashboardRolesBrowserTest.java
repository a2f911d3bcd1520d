package dev.tranche.scheduler.http;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
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
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The dashboard for admins and viewers alike, in real headless Chromium against a real scheduler: it offers what the token may do and says what it may not see. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DashboardRolesBrowserTest
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
        client.createProject(Project.newBuilder().setName("speech").build());
        client.setQuota("vision", Quota.newBuilder().setDeservedGpus(1).setLimitGpus(2).setOverQuotaWeight(1).build());
        client.setQuota("speech", Quota.newBuilder().setDeservedGpus(0.5).setLimitGpus(1.5).setOverQuotaWeight(3).build());
    }

    @AfterAll
    void stop()
    {
        browser.close();
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private ChromeDriver as(String token, String path)
    {
        ChromeDriver page = browser.driver();
        page.manage().deleteAllCookies();
        browser.logIn(base, token);
        page.get(base + path);
        return page;
    }

    @Test
    void theQuotaFormShowsTheChosenProjectsQuota()
    {
        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/quotas.html");
        WebElement form = waitFor(page, By.id("quota-form"));
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> form.isDisplayed());
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> !new Select(driver.findElement(By.id("quota-project"))).getOptions().isEmpty());
        // today the drop-down changed the project but kept the other one's numbers, so a Save overwrote speech's quota with them
        new Select(page.findElement(By.id("quota-project"))).selectByVisibleText("speech");
        assertThat(page.findElement(By.id("quota-deserved")).getAttribute("value")).isEqualTo("0.5");
        assertThat(page.findElement(By.id("quota-limit")).getAttribute("value")).isEqualTo("1.5");
        assertThat(page.findElement(By.id("quota-weight")).getAttribute("value")).isEqualTo("3");
        new Select(page.findElement(By.id("quota-project"))).selectByVisibleText("vision");
        assertThat(page.findElement(By.id("quota-deserved")).getAttribute("value")).isEqualTo("1");
        assertThat(page.findElement(By.id("quota-limit")).getAttribute("value")).isEqualTo("2");

        // changing one number and saving leaves the rest as they were
        page.findElement(By.id("quota-weight")).clear();
        page.findElement(By.id("quota-weight")).sendKeys("2");
        page.findElement(By.id("quota-save")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> client.getQuota("vision").getOverQuotaWeight() == 2);
        assertThat(client.getQuota("vision").getDeservedGpus()).isEqualTo(1);
        assertThat(client.getQuota("vision").getLimitGpus()).isEqualTo(2);
        assertThat(client.getQuota("speech").getDeservedGpus()).isEqualTo(0.5);
    }

    @Test
    void aViewerIsOfferedNoFormsOrButtonsItCannotUse()
    {
        String id = client.submit(Specs.named("viewed-run", "vision")).getExperiment().getId();
        String viewer = scheduler.token(Role.VIEWER, "vision");

        ChromeDriver page = as(viewer, "/index.html");
        waitFor(page, By.cssSelector("tr[data-id='" + id + "']"));
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("who")).getText().contains("viewer"));
        assertThat(page.findElement(By.id("submit-form")).isDisplayed()).isFalse();
        assertThat(page.findElements(By.cssSelector("button.cancel"))).isEmpty();

        page.get(base + "/quotas.html");
        waitFor(page, By.cssSelector("tr[data-project='vision']"));
        assertThat(page.findElement(By.id("quota-form")).isDisplayed()).isFalse();
        assertThat(page.findElements(By.cssSelector("button.edit"))).isEmpty();

        // an admin still gets them, and the submit form offers projects that exist
        page = as(TestingScheduler.ADMIN_TOKEN, "/index.html");
        WebElement form = waitFor(page, By.id("submit-form"));
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> form.isDisplayed());
        assertThat(new Select(page.findElement(By.id("submit-project"))).getOptions()).extracting(WebElement::getText).contains("vision", "speech");
        waitFor(page, By.cssSelector("button.cancel[data-id='" + id + "']"));
    }

    /** A filter the token may not read must say why rather than keep showing the previous filter's rows as if they matched. */
    @Test
    void aFilterTheTokenMayNotReadSaysWhyAndShowsNoOtherFiltersRows()
    {
        String id = client.submit(Specs.named("filtered-run", "vision")).getExperiment().getId();
        ChromeDriver page = as(scheduler.token(Role.VIEWER, "vision"), "/index.html");
        waitFor(page, By.cssSelector("tr[data-id='" + id + "']"));

        page.findElement(By.id("filter-project")).sendKeys("speech");
        page.findElement(By.id("apply-filters")).click();
        WebElement error = new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> {
            List<WebElement> shown = driver.findElements(By.id("load-error"));
            return shown.isEmpty() || !shown.get(0).isDisplayed() ? null : shown.get(0);
        });
        assertThat(error.getText()).startsWith("Could not load: ").contains("speech");
        assertThat(page.findElements(By.cssSelector("tr[data-id]"))).isEmpty();

        // the next load that works clears the message
        page.findElement(By.id("filter-project")).clear();
        page.findElement(By.id("filter-project")).sendKeys("vision");
        page.findElement(By.id("apply-filters")).click();
        waitFor(page, By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(page.findElement(By.id("load-error")).isDisplayed()).isFalse();
    }

    /** A live update must keep the rows "More" loaded, and "More" must continue the filter applied, not what the inputs say now. */
    @Test
    void liveUpdatesKeepMoreRowsAndMoreKeepsTheAppliedFilter()
    {
        for (int i = 0; i < 60; i++) {
            client.submit(Specs.named("many-" + i, "vision"));
        }
        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/index.html");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElements(By.cssSelector("tr[data-id]")).size() == 50);
        // typed but not applied: More goes on with the table's own filter (all projects)
        page.findElement(By.id("filter-project")).sendKeys("no-such-project");
        page.findElement(By.id("more")).click();
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElements(By.cssSelector("tr[data-id]")).size() > 50);
        int shown = page.findElements(By.cssSelector("tr[data-id]")).size();

        String id = client.submit(Specs.named("after-more", "vision")).getExperiment().getId();
        waitFor(page, By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(page.findElements(By.cssSelector("tr[data-id]")).size()).isGreaterThanOrEqualTo(shown);
    }

    /** A stream of changes the browser gives up reopening (the server refuses it) must say live updates stopped, not look live for ever. */
    @Test
    void aStreamTheServerWillNotReopenSaysLiveUpdatesStopped()
    {
        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/index.html");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("live")).getText().equals("live"));
        // without the session the server answers the stream 401, which closes an EventSource for good
        page.manage().deleteAllCookies();
        page.executeScript("Tranche.liveEvents(() => {})");
        WebElement banner = waitFor(page, By.id("live-ended"));
        assertThat(banner.getText()).startsWith("Live updates stopped: ").endsWith("Reload");
        assertThat(page.findElement(By.id("live")).getText()).isEqualTo("not live");
    }

    /** A steady burst of changes (several a second) must still update the table within a few seconds, not only once it stops. */
    @Test
    void aSteadyBurstOfChangesStillUpdatesTheTable()
            throws InterruptedException
    {
        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/index.html");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("live")).getText().equals("live"));
        String first = client.submit(Specs.named("burst-0", "vision")).getExperiment().getId();
        boolean seenDuringTheBurst = false;
        // one change every 150 ms for 4.5 s: a 300 ms debounce alone would wait until the burst ends
        for (int i = 1; i <= 30 && !seenDuringTheBurst; i++) {
            Thread.sleep(150);
            client.submit(Specs.named("burst-" + i, "vision"));
            seenDuringTheBurst = !page.findElements(By.cssSelector("tr[data-id='" + first + "']")).isEmpty();
        }
        assertThat(seenDuringTheBurst).isTrue();
    }

    /** A reader who scrolled up the log pane must not be thrown back to the bottom by every poll; one at the bottom keeps following it. */
    @Test
    void theLogPaneFollowsTheBottomOnlyForAReaderAtTheBottom()
    {
        String id = client.submit(Specs.named("logged-run", "vision")).getExperiment().getId();
        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/experiment.html?id=" + id);
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("summary")).getText().contains("Training"));
        // no worker runs here: the page's fetch answers the log tail with more lines than the pane holds
        page.executeScript("""
                const real = window.fetch;
                window.logPolls = 0;
                window.fetch = (url, options) => {
                  if (!String(url).includes("/logs")) return real(url, options);
                  window.logPolls++;
                  const lines = Array.from({ length: 50 }, (_, i) => "line " + (window.logPolls * 100 + i));
                  return Promise.resolve(new Response(JSON.stringify({ lines }), { status: 200 }));
                };
                """);
        // at the bottom: it follows the newest lines
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> ((Number) page.executeScript(
                "const l = document.getElementById('logs'); return l.textContent.includes('line 1') && l.scrollTop > 0 && l.scrollTop + l.clientHeight >= l.scrollHeight - 4 ? 1 : 0;")).intValue() == 1);
        // scrolled up to read: two polls later it is still where the reader left it
        Object scrollTop = page.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const logs = document.getElementById("logs");
                logs.scrollTop = 0;
                const polls = window.logPolls;
                const check = () => window.logPolls >= polls + 2 ? setTimeout(() => done(logs.scrollTop), 100) : setTimeout(check, 100);
                check();
                """);
        assertThat(((Number) scrollTop).intValue()).isEqualTo(0);
    }

    @Test
    void sharesOfProjectsTheViewerCannotReadAreLabelled()
    {
        ExperimentSpec spec = Specs.named("hidden-share", "speech");
        spec = spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(0.25))).build();
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(30)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);

        ChromeDriver page = as(scheduler.token(Role.VIEWER, "vision"), "/cluster.html");
        WebElement share = waitFor(page, By.cssSelector(".share[data-milli='250']"));
        assertThat(share.getText()).contains("another project");
        assertThat(share.getAttribute("title")).isEqualTo("another project: 0.25 GPU");
        assertThat(page.findElement(By.id("legend")).getText()).contains("another project");
        assertThat(page.getPageSource()).doesNotContain(id);
    }

    @Test
    void aForbiddenExperimentPageSaysSo()
    {
        String id = client.submit(Specs.named("secret-run", "speech")).getExperiment().getId();
        ChromeDriver page = as(scheduler.token(Role.VIEWER, "vision"), "/experiment.html?id=" + id);
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> !driver.findElement(By.id("error")).getText().isEmpty());
        assertThat(page.findElement(By.id("error")).getText()).isEqualTo("experiment " + id + " is not in a project this token can read");
        assertThat(page.findElement(By.tagName("body")).getText()).doesNotContain("loading...");
    }

    @Test
    void oneEpochAndOneAccuracyPointReadWell()
            throws Exception
    {
        ExperimentSpec spec = Specs.named("one-epoch", "vision");
        spec = spec.toBuilder().setTraining(spec.getTraining().toBuilder().setEpochs(1)).build();
        String id = client.submit(spec).getExperiment().getId();
        MetricStreams.report(scheduler.target(), List.of(MetricBatch.newBuilder().setExperimentId(id).setCredential(scheduler.server().workerCredential(id))
                .addPoints(MetricPoint.newBuilder().setName("test_accuracy").setEpoch(1).setStep(100).setValue(0.82))
                .addPoints(MetricPoint.newBuilder().setName("loss").setEpoch(1).setStep(100).setValue(0.4))
                .build()));

        ChromeDriver page = as(TestingScheduler.ADMIN_TOKEN, "/experiment.html?id=" + id);
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> driver.findElement(By.id("summary")).getText().contains("Training"));
        assertThat(page.findElement(By.id("summary")).getText()).contains("1 epoch,").doesNotContain("1 epochs");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> "1".equals(driver.findElement(By.id("chart-test_accuracy")).getAttribute("data-points")));
        // accuracy on its own scale, 0 to 1 (uPlot guessed 0 to 1.5 for a single point); a single loss gets room around it
        assertThat(page.executeScript("const y = charts['test_accuracy'].scales.y; return [y.min, y.max];")).isEqualTo(List.of(0L, 1L));
        @SuppressWarnings("unchecked")
        List<Number> loss = (List<Number>) page.executeScript("const y = charts['loss'].scales.y; return [y.min, y.max];");
        assertThat(loss.get(0).doubleValue()).isLessThan(0.4).isGreaterThan(0.3);
        assertThat(loss.get(1).doubleValue()).isGreaterThan(0.4).isLessThan(0.5);
    }

    private static WebElement waitFor(ChromeDriver page, By selector)
    {
        return new WebDriverWait(page, Duration.ofSeconds(15)).until(driver -> {
            List<WebElement> found = driver.findElements(selector);
            return found.isEmpty() ? null : found.get(0);
        });
    }
}
