package io.resilientws;

/**
 * The close-code rules of RFC 6455, in one place for the client, the server and their configuration:
 * which codes exist, which may travel in a close frame, and which an application may close with.
 */
public final class CloseCodes {

	private CloseCodes() {
	}

	/** A code of the protocol's range: 1000 to 4999 (4000 to 4999 belong to applications). */
	public static boolean isValid(int code) {
		return code >= 1000 && code <= 4999;
	}

	/** A code that may appear in a close frame: 1004, 1005, 1006 and 1015 are reserved and never do. */
	public static boolean isSendable(int code) {
		return isValid(code) && code != 1004 && code != 1005 && code != 1006 && code != 1015;
	}

	/** A code an application may close with, as in the browser's {@code close()}: 1000, 1001 or 3000 to 4999. */
	public static boolean isApplicationClose(int code) {
		return code == 1000 || code == 1001 || (code >= 3000 && code <= 4999);
	}

}
