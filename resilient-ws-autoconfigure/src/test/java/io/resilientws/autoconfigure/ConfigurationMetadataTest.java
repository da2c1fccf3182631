package io.resilientws.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ReconnectSettings;
import io.resilientws.health.ConnectionHealthSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.convert.DurationStyle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration metadata the build generates (target/classes/META-INF): every resilient-ws property
 * is described, has its default where it has one, and those defaults are the ones the code uses.
 */
class ConfigurationMetadataTest {

	private static final String DEFAULTS = "resilient-ws.client.defaults.";

	/** Properties whose absence means something other than a value ("no limit", "none", "required"). */
	private static final Set<String> WITHOUT_DEFAULT = Set.of("url", "handler", "subprotocols", "headers", "ssl-bundle",
			"reconnect.max-attempts", "reconnect.on-codes", "reconnect.never-on-codes", "send.rate.messages-per-second");

	private static final Map<String, JsonNode> properties = new LinkedHashMap<>();

	private static final Map<String, JsonNode> hints = new LinkedHashMap<>();

	@BeforeAll
	static void readMetadata() throws IOException {
		try (InputStream in = ConfigurationMetadataTest.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("generated metadata").isNotNull();
			JsonNode metadata = JsonMapper.builder().build().readTree(in);
			metadata.get("properties").forEach((property) -> properties.put(property.get("name").asString(), property));
			metadata.get("hints").forEach((hint) -> hints.put(hint.get("name").asString(), hint));
		}
	}

	@Test
	void everyPropertyIsDescribed() {
		List<String> ours = properties.keySet().stream().filter((name) -> name.startsWith("resilient-ws.")).toList();
		assertThat(ours).hasSizeGreaterThan(30)
			.contains("resilient-ws.client.connections", "resilient-ws.client.shutdown-timeout",
					"resilient-ws.health.include-in-readiness", DEFAULTS + "health.enabled",
					DEFAULTS + "health.down-after");
		assertThat(ours).allSatisfy((name) -> assertThat(properties.get(name).path("description").asString())
			.as("description of %s", name)
			.isNotBlank());
	}

	@Test
	void everyConnectionPropertyWithADefaultDeclaresIt() {
		List<String> missing = new ArrayList<>();
		properties.keySet()
			.stream()
			.filter((name) -> name.startsWith(DEFAULTS))
			.filter((name) -> !WITHOUT_DEFAULT.contains(name.substring(DEFAULTS.length())))
			.filter((name) -> !properties.get(name).has("defaultValue"))
			.forEach(missing::add);
		assertThat(missing).isEmpty();
	}

	@Test
	void declaredDefaultsAreTheDefaultsTheCodeUses() {
		Map<String, Object> declared = new LinkedHashMap<>();
		properties.forEach((name, property) -> {
			if (name.startsWith(DEFAULTS) && property.has("defaultValue")) {
				declared.put(name, property.get("defaultValue").asString());
			}
		});
		ResilientWsClientProperties bound = new Binder(new MapConfigurationPropertySource(declared))
			.bind("resilient-ws.client", ResilientWsClientProperties.class)
			.get();
		ConnectionSettings.Builder fromMetadata = ConnectionSettings.builder().url("ws://localhost/ws");
		bound.getDefaults().applyTo(fromMetadata);
		ConnectionSettings declaredSettings = fromMetadata.build();
		ConnectionSettings builtIn = ConnectionSettings.builder().url("ws://localhost/ws").build();

		assertThat(declaredSettings.heartbeat()).isEqualTo(builtIn.heartbeat());
		assertThat(declaredSettings.send()).isEqualTo(builtIn.send());
		assertThat(declaredSettings.connectTimeout()).isEqualTo(builtIn.connectTimeout());
		assertThat(declaredSettings.closeTimeout()).isEqualTo(builtIn.closeTimeout());
		assertThat(declaredSettings.autoStartup()).isEqualTo(builtIn.autoStartup());
		assertThat(declaredSettings.queueWhileDisconnected()).isEqualTo(builtIn.queueWhileDisconnected());
		assertThat(declaredSettings.resume()).isEqualTo(builtIn.resume());
		ReconnectSettings reconnect = declaredSettings.reconnect();
		ReconnectSettings builtInReconnect = builtIn.reconnect();
		assertThat(reconnect).usingRecursiveComparison().ignoringFields("policy").isEqualTo(builtInReconnect);

		assertThat(bound.getDefaults().getHealth().getEnabled()).isEqualTo(ConnectionHealthSettings.DEFAULTS.enabled());
		assertThat(bound.getDefaults().getHealth().getDownAfter())
			.isEqualTo(ConnectionHealthSettings.DEFAULTS.downAfter());
		assertThat(DurationStyle.detectAndParse(properties.get("resilient-ws.client.shutdown-timeout")
			.get("defaultValue")
			.asString())).isEqualTo(new ResilientWsClientProperties().getShutdownTimeout());
	}

	@Test
	void clusterPropertiesAreDescribedWithTheDefaultsTheCodeUses() {
		ResilientWsClusterProperties builtIn = new ResilientWsClusterProperties();
		assertThat(properties).containsKeys("resilient-ws.cluster.enabled", "resilient-ws.cluster.node-id",
				"resilient-ws.cluster.key-prefix", "resilient-ws.cluster.heartbeat-interval",
				"resilient-ws.cluster.node-timeout", "resilient-ws.cluster.request-timeout");
		assertThat(properties.get("resilient-ws.cluster.enabled").get("defaultValue").asBoolean()).isFalse();
		assertThat(properties.get("resilient-ws.cluster.key-prefix").get("defaultValue").asString())
			.isEqualTo(builtIn.getKeyPrefix());
		assertThat(duration("resilient-ws.cluster.heartbeat-interval")).isEqualTo(builtIn.getHeartbeatInterval());
		assertThat(duration("resilient-ws.cluster.node-timeout")).isEqualTo(builtIn.getNodeTimeout());
		assertThat(duration("resilient-ws.cluster.request-timeout")).isEqualTo(builtIn.getRequestTimeout());
	}

	private static java.time.Duration duration(String property) {
		return DurationStyle.detectAndParse(properties.get(property).get("defaultValue").asString());
	}

	@Test
	void enumPropertiesListTheirValuesWithDescriptions() {
		assertThat(values(DEFAULTS + "heartbeat.mode")).containsExactly("FRAME", "TEXT");
		assertThat(values(DEFAULTS + "send.overflow")).containsExactly("REJECT", "DROP_OLDEST", "BLOCK", "CLOSE");
		assertThat(hints.get(DEFAULTS + "handler").toString()).contains("spring-bean-reference")
			.contains("io.resilientws.client.ConnectionHandler");
	}

	private static List<String> values(String hint) {
		assertThat(hints).containsKey(hint);
		List<String> values = new ArrayList<>();
		hints.get(hint).get("values").forEach((value) -> {
			assertThat(value.path("description").asString()).isNotBlank();
			values.add(value.get("value").asString());
		});
		return values;
	}

}
