package io.resilientws.autoconfigure;

import io.resilientws.ResilientWsScheduler;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * What the client and server sides share: the one scheduler behind all heartbeats and timers.
 */
@AutoConfiguration
public final class ResilientWsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ResilientWsScheduler resilientWsScheduler() {
		return ResilientWsScheduler.create();
	}

}
