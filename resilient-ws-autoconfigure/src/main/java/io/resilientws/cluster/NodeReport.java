package io.resilientws.cluster;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import io.resilientws.server.ClusterView;

/**
 * A node's report in Redis, as lines of text so that {@code redis-cli get} shows it: the time it was
 * written (epoch milliseconds), then one line per endpoint, its open sessions, a tab and its path.
 */
final class NodeReport {

	private NodeReport() {
	}

	static String encode(Instant now, Map<String, Integer> sessionsByEndpoint) {
		StringBuilder report = new StringBuilder().append(now.toEpochMilli()).append('\n');
		sessionsByEndpoint.forEach((endpoint, sessions) -> report.append(sessions)
			.append('\t')
			.append(endpoint.replace('\n', ' '))
			.append('\n'));
		return report.toString();
	}

	/** Reads a report; a line that does not parse is left out rather than failing the whole view. */
	static ClusterView.Node decode(String nodeId, String report) {
		String[] lines = report.split("\n");
		Instant seen = Instant.EPOCH;
		Map<String, Integer> sessions = new TreeMap<>();
		for (int i = 0; i < lines.length; i++) {
			try {
				if (i == 0) {
					seen = Instant.ofEpochMilli(Long.parseLong(lines[0]));
				}
				else {
					int tab = lines[i].indexOf('\t');
					if (tab > 0) {
						sessions.put(lines[i].substring(tab + 1), Integer.parseInt(lines[i].substring(0, tab)));
					}
				}
			}
			catch (NumberFormatException ex) {
				// left out, see above
			}
		}
		return new ClusterView.Node(nodeId, sessions, seen, false);
	}

}
