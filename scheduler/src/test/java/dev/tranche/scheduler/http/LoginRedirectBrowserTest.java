package dev.tranche.scheduler.http;

import dev.tranche.scheduler.testing.Browser;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The login page sends a person back where they were going, and only ever to a page of the dashboard (real Chromium). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class LoginRedirectBrowserTest
{
    @RegisterExtension
    final Browser browser = new Browser();

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
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

    /** A deep link opened with an expired or revoked session must end on the login page, then on the link, not on a JSON error. */
    @Test
    void aDeepLinkWithAStaleSessionCookieGoesThroughTheLoginPageAndBack()
    {
        ChromeDriver page = browser.driver();
        page.get(base + "/login.html");
        page.manage().deleteAllCookies();
        page.manage().addCookie(new Cookie("tranche_token", "trn_revoked-or-expired-0123456789abcdef"));
        page.get(base + "/cluster.html?from=link");
        new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.getCurrentUrl().contains("/login.html"));
        WebElement field = new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.findElement(By.id("token")));
        field.sendKeys(TestingScheduler.ADMIN_TOKEN);
        page.findElement(By.id("sign-in")).click();
        new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.getCurrentUrl().equals(base + "/cluster.html?from=link"));
        page.manage().deleteAllCookies();
    }

    /** Someone already logged in who lands on the login page (another tab, the back button) must not have to log in again. */
    @Test
    void theLoginPageGoesStraightOnWhenASessionExists()
    {
        ChromeDriver page = browser.driver();
        page.get(base + "/login.html");
        page.manage().deleteAllCookies();
        logInWith("/");
        page.get(base + "/login.html?next=" + URLEncoder.encode("/quotas.html", StandardCharsets.UTF_8));
        new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.getCurrentUrl().equals(base + "/quotas.html"));
        page.manage().deleteAllCookies();
    }

    /** A page asked for with a refused cookie must redirect (keeping where it was, clearing the cookie) while the API keeps its JSON 401. */
    @Test
    void aRefusedCookieRedirectsPagesButNotTheApi()
            throws IOException, InterruptedException
    {
        HttpResponse<String> pageAnswer = get("/experiment.html?id=e-1&compare=e-2", "trn_revoked-or-expired-0123456789abcdef");
        assertThat(pageAnswer.statusCode()).isEqualTo(302);
        assertThat(pageAnswer.headers().firstValue("Location")).hasValue("/login.html?next=" + URLEncoder.encode("/experiment.html?id=e-1&compare=e-2", StandardCharsets.UTF_8));
        assertThat(pageAnswer.headers().allValues("Set-Cookie")).anySatisfy(cookie -> assertThat(cookie).startsWith("tranche_token=;").contains("Expires=Thu, 01 Jan 1970"));

        HttpResponse<String> apiAnswer = get("/api/v1/nodes", "trn_revoked-or-expired-0123456789abcdef");
        assertThat(apiAnswer.statusCode()).isEqualTo(401);
        assertThat(apiAnswer.body()).contains("UNAUTHENTICATED");
    }

    /** The server's redirect must never name another site as next ("//evil.example" is a host to a browser). */
    @Test
    void theRedirectToTheLoginPageNeverNamesAnotherSite()
            throws IOException, InterruptedException
    {
        for (String path : List.of("//evil.example/a.html", "/%5Cevil.example/a.html", "/")) {
            String location = get(path, null).headers().firstValue("Location").orElse("");
            String next = location.contains("?next=") ? URLDecoder.decode(location.substring(location.indexOf("?next=") + 6), StandardCharsets.UTF_8) : "/";
            assertThat(next).as(path).startsWith("/").doesNotStartWith("//");
            assertThat(URI.create(base).resolve(next).getHost()).as(path + " -> " + location).isEqualTo("127.0.0.1");
        }
        assertThat(get("/quotas.html", null).headers().firstValue("Location")).hasValue("/login.html?next=%2Fquotas.html");
    }

    private HttpResponse<String> get(String path, String cookie)
            throws IOException, InterruptedException
    {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (cookie != null) {
            request.header("Cookie", "tranche_token=" + cookie);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
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
