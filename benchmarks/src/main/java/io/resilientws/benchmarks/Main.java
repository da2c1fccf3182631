package io.resilientws.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;

import io.resilientws.benchmarks.scenario.ChatScenario;
import io.resilientws.benchmarks.scenario.ClusterScenario;
import io.resilientws.benchmarks.scenario.EchoScenario;
import io.resilientws.benchmarks.scenario.DetectScenario;
import io.resilientws.benchmarks.scenario.FanoutScenario;
import io.resilientws.benchmarks.scenario.FloodScenario;
import io.resilientws.benchmarks.scenario.IdleScenario;
import io.resilientws.benchmarks.scenario.ResumeScenario;
import io.resilientws.benchmarks.scenario.StormScenario;

/**
 * Runs one scenario: {@code echo}, {@code fanout}, {@code idle}, {@code storm}, {@code detect},
 * {@code flood}, {@code chat}, {@code cluster} or {@code resume}, with {@code --name=value} options (each scenario documents its own).
 * Started by {@code benchmarks/run.sh}.
 */
public final class Main {

	private Main() {
	}

	public static void main(String[] args) throws Exception {
		if (args.length == 0) {
			System.err.println("usage: run.sh echo|fanout|idle|storm|detect|flood|chat|cluster|resume [--option=value ...]");
			System.exit(2);
		}
		Map<String, String> options = new LinkedHashMap<>();
		for (int i = 1; i < args.length; i++) {
			String[] pair = args[i].replaceFirst("^--", "").split("=", 2);
			options.put(pair[0], (pair.length > 1) ? pair[1] : "true");
		}
		switch (args[0]) {
			case "echo" -> {
				if (options.containsKey("from-log")) {
					new EchoScenario(options).replot(java.nio.file.Path.of(options.get("from-log")), "see the log");
				}
				else {
					new EchoScenario(options).run();
				}
			}
			case "fanout" -> new FanoutScenario(options).run();
			case "idle" -> new IdleScenario(options).run();
			case "storm" -> new StormScenario(options).run();
			case "detect" -> new DetectScenario(options).run();
			case "flood" -> new FloodScenario(options).run();
			case "chat" -> new ChatScenario(options).run();
			case "cluster" -> new ClusterScenario(options).run();
			case "resume" -> new ResumeScenario(options).run();
			default -> {
				System.err.println("unknown scenario " + args[0]);
				System.exit(2);
			}
		}
		System.exit(0);
	}

}
