package io.resilientws.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Serves a ticker at {@code /ticker} and, through resilient-ws, keeps a client connection to it
 * (configured as {@code ticker} in application.yml). Point the client elsewhere with
 * {@code --sample.upstream-url=ws://host:port/path}.
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
