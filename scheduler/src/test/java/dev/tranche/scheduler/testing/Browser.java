package dev.tranche.scheduler.testing;

import dev.tranche.testing.Prerequisites;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * Debian's headless Chromium driven by Selenium through Debian's chromedriver (nothing is downloaded).
 * Registered as an extension it saves a screenshot of every failing test under target/screenshots/.
 */
public final class Browser
        implements TestWatcher, AutoCloseable
{
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private ChromeDriver driver;

    public ChromeDriver driver()
    {
        if (driver == null) {
            Prerequisites.require(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                    "browser tests need Debian's chromium and chromium-driver (.ci/run installs them)");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000");
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
            driver = new ChromeDriver(service, options);
        }
        return driver;
    }

    /** Logs in through the dashboard's login page (at {@code base}) with {@code token}, and waits to be let in. */
    public ChromeDriver logIn(String base, String token)
    {
        ChromeDriver page = driver();
        page.get(base + "/login.html");
        WebElement field = new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> d.findElement(By.id("token")));
        field.clear();
        field.sendKeys(token);
        page.findElement(By.id("sign-in")).click();
        new WebDriverWait(page, Duration.ofSeconds(15)).until(d -> !d.getCurrentUrl().contains("/login.html"));
        return page;
    }

    /** Saves what the browser shows now as a PNG. */
    public void screenshot(Path file)
    {
        if (driver == null) {
            return;
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), file, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause)
    {
        screenshot(Path.of("target", "screenshots", context.getRequiredTestClass().getSimpleName() + "-" + context.getRequiredTestMethod().getName() + ".png"));
    }

    @Override
    public void close()
    {
        if (driver != null) {
            driver.quit();
            driver = null;
        }
    }
}
