package io.resilientws.sample;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium from the operating system (Debian's {@code chromium} and {@code chromium-driver}),
 * never a downloaded browser.
 * <p>
 * When they are missing the browser tests are skipped with a message that says how to install them;
 * under CI ({@code CI=true}) a missing browser fails the run instead, so that a green build always
 * means the browser tests ran.
 */
final class Browser {

	static final String INSTALL = "install them with: apt-get install -y chromium chromium-driver "
			+ "(or point CHROME_BIN and CHROMEDRIVER at a Chromium and its driver)";

	private Browser() {
	}

	static ChromeDriver start() {
		String chrome = System.getenv().getOrDefault("CHROME_BIN", "/usr/bin/chromium");
		String driver = System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver");
		if (!new File(chrome).canExecute() || !new File(driver).canExecute()) {
			String message = "Browser tests need " + chrome + " and " + driver + ": " + INSTALL;
			if ("true".equals(System.getenv("CI"))) {
				Assertions.fail(message);
			}
			System.err.println("\n*** SKIPPING BROWSER TESTS *** " + message + "\n");
			Assumptions.abort(message);
		}
		ChromeOptions options = new ChromeOptions();
		options.setBinary(chrome);
		options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
				"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
				"--disable-sync", "--window-size=900,700", "--user-data-dir=" + profileDirectory(),
				// Two chat pages share one browser: keep the one in the background tab fully awake.
				"--disable-background-timer-throttling", "--disable-renderer-backgrounding",
				"--disable-backgrounding-occluded-windows");
		ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driver))
			.usingAnyFreePort()
			.build();
		ChromeDriver browser = new ChromeDriver(service, options);
		browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
		return browser;
	}

	private static String profileDirectory() {
		try {
			Path directory = Files.createTempDirectory("resilient-ws-chromium");
			directory.toFile().deleteOnExit();
			return directory.toString();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
