package io.resilientws.benchmarks.driver;

/**
 * Text payloads that carry the time they were sent: {@code <System.nanoTime()>|xxxx...}, padded to a
 * size. On Linux System.nanoTime is CLOCK_MONOTONIC, as is Node's process.hrtime, so a timestamp
 * written by the server process and read by the driver process is comparable.
 */
public final class Payloads {

	private static final String PADDING = "x".repeat(1 << 17);

	private Payloads() {
	}

	public static String stamped(long nanos, int size) {
		String prefix = nanos + "|";
		int pad = Math.max(0, size - prefix.length());
		return prefix.concat(PADDING.substring(0, pad));
	}

	public static long stampOf(CharSequence text) {
		long value = 0;
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			if (c == '|') {
				return value;
			}
			value = value * 10 + (c - '0');
		}
		throw new IllegalArgumentException("no timestamp in message");
	}

}
