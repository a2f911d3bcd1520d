package dev.tranche.scheduler.http;

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

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** After logging in, the dashboard goes only to a page of its own, whatever ?next= says (real Chromium). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class LoginRedirectBrowserTest
{
    @RegisterExtension
    final Browser browser = new Browser();

    private TestingScheduler scheduler;
    private String base;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        base = "http://127.0.0.1:" + scheduler.httpPort();
    }

    @AfterAll
    void stop()
    {
        browser.close();
        scheduler.close();
    }

    @Test
    void nextNeverLeavesTheSite()
    {
        for (String next : List.of("/\\evil.example", "//evil.example", "/\t/evil.example", "https://evil.example/", "javascript:alert(1)",
                "/%5Cevil.example", "\\\\evil.example", "/\\/evil.example")) {
            String landed = logInWith(next);
            assertThat(URI.create(landed).getHost()).as("next=" + next + " landed on " + landed).isEqualTo("127.0.0.1");
            browser.driver().manage().deleteAllCookies();
        }
        // a page of the dashboard itself is still where it goes
        assertThat(logInWith("/cluster.html")).isEqualTo(base + "/cluster.html");
    }

    private String logInWith(String next)
    {
        ChromeDriver page = browser.driver();
        page.get(base + "/login.html?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
        WebElement field = new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.findElement(By.id("token")));
        field.sendKeys(TestingScheduler.ADMIN_TOKEN);
        page.findElement(By.id("sign-in")).click();
        new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> !d.getCurrentUrl().contains("/login.html"));
        return page.getCurrentUrl();
    }
}
