package io.resilientws.sample;

import java.time.Duration;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import org.junit.jupiter.api.Test;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stopping the application, as SIGTERM does: the {@code ticker} connection says goodbye with 1001 and
 * stays closed.
 * <p>
 * The application is started by hand rather than with {@code @SpringBootTest}: the test closes the
 * context itself, and the test framework's context cache cannot take back a context closed under it.
 */
class SampleApplicationShutdownTests {

	@Test
	void closingTheApplicationClosesTheConnectionWith1001AndNoReconnect() {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(SampleApplication.class)
			.main(SampleApplication.class)
			.run("--server.port=" + FreePort.find());
		ManagedConnection ticker;
		try {
			ticker = context.getBean(ConnectionRegistry.class).get("ticker");
			TickerClient client = context.getBean(TickerClient.class);
			await().atMost(Duration.ofSeconds(10)).until(ticker::state, (state) -> state == ConnectionState.OPEN);
			await().atMost(Duration.ofSeconds(10)).until(client::tickCount, (count) -> count >= 1);
		}
		finally {
			context.close();
		}

		assertThat(ticker.state()).isEqualTo(ConnectionState.CLOSED);
		CloseEvent close = ticker.lastClose().orElseThrow();
		assertThat(close.code()).isEqualTo(1001);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.LOCAL);
		assertThat(close.wasClean()).isTrue();
		assertThat(close.willReconnect()).isFalse();
		await().during(Duration.ofSeconds(2))
			.atMost(Duration.ofSeconds(3))
			.until(ticker::state, (state) -> state == ConnectionState.CLOSED);
	}

}
