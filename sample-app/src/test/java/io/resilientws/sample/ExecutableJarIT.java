package io.resilientws.sample;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar that {@code ./mvnw -B package} builds runs on its own, as every Boot application ships:
 * {@code java -jar sample-app-*.jar} serves the chat, and SIGTERM drains the chat sessions with 1001.
 * Run by failsafe after {@code package}, against the repackaged jar.
 */
class ExecutableJarIT {

	@Test
	void theJarIsASpringBootExecutableJar() throws Exception {
		assertThat(Files.isRegularFile(SampleJar.jar())).isTrue();
		try (JarFile jar = new JarFile(SampleJar.jar().toFile())) {
			assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
				.isEqualTo("org.springframework.boot.loader.launch.JarLauncher");
			assertThat(jar.getManifest().getMainAttributes().getValue("Start-Class"))
				.isEqualTo(SampleApplication.class.getName());
		}
	}

	@Test
	void javaMinusJarServesTheChatAndDrainsItWith1001OnSigterm() throws Exception {
		try (SampleJar sample = SampleJar.start("--resilient-ws.client.connections.ticker.auto-startup=false")) {
			HttpResponse<String> page = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(sample.uri("/")).build(), HttpResponse.BodyHandlers.ofString());
			assertThat(page.statusCode()).isEqualTo(200);

			ChatPeer alice = ChatPeer.connect(sample.port());
			ChatPeer bob = ChatPeer.connect(sample.port());
			alice.send("hello from a jar");
			assertThat(bob.nextText()).contains("hello from a jar");

			// The JVM's exit status after SIGTERM with its shutdown hooks run: 128 + 15.
			assertThat(sample.stop()).as("exit status after SIGTERM").isEqualTo(143);
			assertThat(alice.closeCode()).isEqualTo(1001);
			assertThat(bob.closeCode()).isEqualTo(1001);
		}
	}

}
