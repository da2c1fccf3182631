package io.resilientws.sample;

import java.time.Duration;
import java.util.List;

import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.testsupport.TcpProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.socket.CloseStatus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample chat in a real headless Chromium: two pages chat with each other through the server
 * registry's broadcast, and the browser client notices losses and comes back. One page (Alice's)
 * reaches the application through a TCP proxy, which cuts or freezes its link for real; the other
 * (Bob's) is direct and stays up to watch.
 */
class ChatBrowserTest {

	private static final Duration WAIT = Duration.ofSeconds(20);

	private ConfigurableApplicationContext application;

	private TcpProxy proxy;

	private ChromeDriver browser;

	private String alice;

	private String bob;

	@BeforeEach
	void openTwoChatPages() {
		this.browser = Browser.start();
		int port = FreePort.find();
		// As arguments: they must beat the sample's own application.yml (server.port: 8080).
		this.application = new SpringApplicationBuilder(SampleApplication.class).run("--server.port=" + port,
				"--server.address=127.0.0.1", "--resilient-ws.client.connections.ticker.auto-startup=false");
		this.proxy = TcpProxy.start(port);
		// Short heartbeat and reconnect timing, set from the address bar (see chat.js). Alice's link
		// goes through the proxy and suffers its faults; Bob's is direct and stays up to watch.
		String timing = "/?heartbeat=1000&timeout=1000&initialDelay=300";
		this.browser.get("http://127.0.0.1:" + this.proxy.port() + timing);
		this.alice = this.browser.getWindowHandle();
		this.browser.switchTo().newWindow(WindowType.TAB).get("http://127.0.0.1:" + port + timing);
		this.bob = this.browser.getWindowHandle();
		awaitState(this.alice, "open");
		awaitState(this.bob, "open");
		await().atMost(WAIT).until(() -> registry().findByEndpoint("/chat").size() == 2);
	}

	@AfterEach
	void closeEverything() {
		if (this.browser != null) {
			this.browser.quit();
		}
		if (this.proxy != null) {
			this.proxy.close();
		}
		if (this.application != null) {
			this.application.close();
		}
	}

	@Test
	void twoPagesSeeEachOthersMessages() {
		say(this.alice, "hello from alice");
		say(this.bob, "hi alice");
		for (String page : List.of(this.alice, this.bob)) {
			awaitMessages(page, "hello from alice", "hi alice");
		}
	}

	@Test
	void eachPageShowsTheInstanceItTalksTo() {
		// Bob's page is direct; Alice's goes through the proxy, yet the instance's own port is what it shows.
		int port = this.application.getEnvironment().getProperty("local.server.port", Integer.class);
		for (String page : List.of(this.alice, this.bob)) {
			await().atMost(WAIT)
				.until(() -> this.browser.switchTo().window(page).findElement(By.id("instance")).getText(),
						(text) -> text.equals("single instance, port " + port));
		}
	}

	@Test
	void aCutConnectionShowsReconnectingAndThenChatsAgain() {
		this.proxy.cutAll();
		awaitState(this.alice, "reconnecting");
		assertThat(statusText(this.alice)).matches("reconnecting in \\d+ s \\(attempt \\d+\\)");
		awaitState(this.alice, "open");
		assertThat(dataState(this.bob)).isEqualTo("open");
		say(this.alice, "back again");
		awaitMessages(this.bob, "back again");
	}

	@Test
	void aServerCloseWith1000IsFinal() {
		registry().findByEndpoint("/chat").forEach((session) -> session.close(CloseStatus.NORMAL));
		awaitState(this.alice, "closed");
		assertThat(statusText(this.alice)).isEqualTo("disconnected (1000)");
		await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> registry().findByEndpoint("/chat").isEmpty());
		assertThat(dataState(this.alice)).isEqualTo("closed");
	}

	@Test
	void aFrozenLinkIsNoticedByThePagesHeartbeatAndTheChatComesBack() {
		this.proxy.freeze();
		// No close event ever arrives over a frozen link: only the page's heartbeat can tell.
		awaitState(this.alice, "reconnecting");
		this.proxy.unfreeze();
		awaitState(this.alice, "open");
		say(this.alice, "thawed");
		awaitMessages(this.bob, "thawed");
	}

	@Test
	void messagesTypedWhileDisconnectedArriveAfterTheReconnectOnceEach() {
		this.proxy.freeze();
		awaitState(this.alice, "reconnecting");
		say(this.alice, "typed offline 1");
		say(this.alice, "typed offline 2");
		say(this.alice, "typed offline 3");
		this.proxy.unfreeze();
		awaitState(this.alice, "open");
		awaitMessages(this.bob, "typed offline 1", "typed offline 2", "typed offline 3");
		// Give duplicates the chance to show up before counting.
		say(this.alice, "marker");
		awaitMessages(this.bob, "marker");
		awaitMessages(this.alice, "marker");
		for (String page : List.of(this.alice, this.bob)) {
			List<String> shown = messages(page);
			for (String text : List.of("typed offline 1", "typed offline 2", "typed offline 3")) {
				assertThat(shown).as("on %s", page).containsOnlyOnce(text);
			}
			assertThat(shown).containsSubsequence("typed offline 1", "typed offline 2", "typed offline 3");
		}
	}

	@Test
	void whatOthersSaidWhileAPageWasOfflineAppearsOnceInOrderAfterItIsBack() {
		say(this.bob, "before");
		awaitMessages(this.alice, "before");
		this.proxy.freeze();
		awaitState(this.alice, "reconnecting");
		say(this.bob, "while away 1");
		say(this.bob, "while away 2");
		say(this.bob, "while away 3");
		awaitMessages(this.bob, "while away 1", "while away 2", "while away 3");
		this.proxy.unfreeze();
		awaitState(this.alice, "open");
		say(this.bob, "after");
		awaitMessages(this.alice, "after");
		assertThat(messages(this.alice)).containsExactly("before", "while away 1", "while away 2", "while away 3",
				"after");
	}

	private ServerSessionRegistry registry() {
		return this.application.getBean(ServerSessionRegistry.class);
	}

	private void say(String page, String text) {
		WebDriver window = this.browser.switchTo().window(page);
		WebElement input = window.findElement(By.id("message"));
		input.sendKeys(text);
		window.findElement(By.cssSelector("#publish button")).click();
	}

	private void awaitMessages(String page, String... texts) {
		await().atMost(WAIT).untilAsserted(() -> assertThat(messages(page)).contains(texts));
	}

	private List<String> messages(String page) {
		return this.browser.switchTo()
			.window(page)
			.findElements(By.cssSelector("#messages li:not(.pending)"))
			.stream()
			.map(WebElement::getText)
			.toList();
	}

	private void awaitState(String page, String state) {
		await().atMost(WAIT).until(() -> state.equals(dataState(page)));
	}

	private String dataState(String page) {
		return this.browser.switchTo().window(page).findElement(By.id("status")).getDomAttribute("data-state");
	}

	private String statusText(String page) {
		return this.browser.switchTo().window(page).findElement(By.id("status")).getText();
	}

}
