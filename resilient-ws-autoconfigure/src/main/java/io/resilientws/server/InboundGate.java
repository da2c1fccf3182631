package io.resilientws.server;

import org.jspecify.annotations.Nullable;

/**
 * Orders the release of a session handed over after the handler's work on its client's messages.
 * Tomcat tells a session of a close it starts itself at once, on the closing thread, while the reading
 * thread may still be in the handler, and it goes on delivering the client's frames until the client's
 * close arrives. The count of handled messages that the release stores must include the message in the
 * handler (and what the handler sent for it) and nothing after it: a message left out is handled again
 * where the session goes, and one handled after the release is handled twice.
 * <p>
 * Thread-safety: the counts are guarded by this object's monitor; the action runs outside it.
 */
final class InboundGate {

	/** Client messages in the handler now. */
	private int handling;

	/** Set once the session is being released: no client message reaches the handler after. */
	private boolean shut;

	/** What runs once the last message in the handler is done; null when nothing waits. */
	private @Nullable Runnable whenIdle;

	/**
	 * A client message is about to be handled.
	 * @return false once the gate is shut: the message is not handled here, and not counted, so the
	 * instance that takes the session over gets it again from the client
	 */
	synchronized boolean enter() {
		if (this.shut) {
			return false;
		}
		this.handling++;
		return true;
	}

	/** The handler is done with a message that {@link #enter} let in. */
	void exit() {
		Runnable action;
		synchronized (this) {
			this.handling--;
			if (this.handling > 0 || this.whenIdle == null) {
				return;
			}
			action = this.whenIdle;
			this.whenIdle = null;
		}
		action.run();
	}

	/**
	 * No client message reaches the handler from now on; {@code action} runs once none is in it: now, on
	 * this thread, or when the handler returns, on the thread that handled the message.
	 */
	void shut(Runnable action) {
		synchronized (this) {
			this.shut = true;
			if (this.handling > 0) {
				this.whenIdle = action;
				return;
			}
		}
		action.run();
	}

}
