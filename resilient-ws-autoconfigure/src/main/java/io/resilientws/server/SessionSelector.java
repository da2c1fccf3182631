package io.resilientws.server;

import java.util.List;
import java.util.Objects;

/**
 * Which sessions a broadcast is for, in a form that can cross a process boundary (a Java
 * {@code Predicate} cannot): in cluster mode every instance applies the same selector to its own
 * sessions. Build one from the factory methods and combine them with {@link #and} and {@link #or}:
 * <pre>{@code
 * SessionSelector.endpoint("/chat").and(SessionSelector.attributeEquals("room", "42"))
 * }</pre>
 * A selector for one session id or one principal is routed only to the instances that hold that session
 * or user; every other selector goes to all instances.
 */
public sealed interface SessionSelector {

	/** Every session. */
	static SessionSelector all() {
		return All.INSTANCE;
	}

	/** The sessions of one endpoint, by the path it was registered with. */
	static SessionSelector endpoint(String path) {
		return new Endpoint(path);
	}

	/** The sessions of one authenticated user. */
	static SessionSelector principal(String name) {
		return new Principal(name);
	}

	/** One session, by id. */
	static SessionSelector session(String sessionId) {
		return new Session(sessionId);
	}

	/**
	 * The sessions whose handshake attribute {@code name} is a {@link CharSequence}, {@link Number},
	 * {@link Boolean} or enum whose string form equals {@code value}.
	 */
	static SessionSelector attributeEquals(String name, String value) {
		return new AttributeEquals(name, value);
	}

	/** Sessions that this selector and {@code other} both select. */
	default SessionSelector and(SessionSelector other) {
		return new AllOf(List.of(this, other));
	}

	/** Sessions that this selector or {@code other} selects. */
	default SessionSelector or(SessionSelector other) {
		return new AnyOf(List.of(this, other));
	}

	/** Whether this selector selects {@code session}. */
	boolean matches(ManagedSession session);

	/** See {@link SessionSelector#all()}. */
	enum All implements SessionSelector {

		INSTANCE;

		@Override
		public boolean matches(ManagedSession session) {
			return true;
		}

	}

	/** See {@link SessionSelector#endpoint(String)}. */
	record Endpoint(String path) implements SessionSelector {

		public Endpoint {
			Objects.requireNonNull(path, "path");
		}

		@Override
		public boolean matches(ManagedSession session) {
			return session.endpoint().equals(this.path);
		}

	}

	/** See {@link SessionSelector#principal(String)}. */
	record Principal(String name) implements SessionSelector {

		public Principal {
			Objects.requireNonNull(name, "name");
		}

		@Override
		public boolean matches(ManagedSession session) {
			return session.principalName().filter(this.name::equals).isPresent();
		}

	}

	/** See {@link SessionSelector#session(String)}. */
	record Session(String id) implements SessionSelector {

		public Session {
			Objects.requireNonNull(id, "id");
		}

		@Override
		public boolean matches(ManagedSession session) {
			return session.getId().equals(this.id);
		}

	}

	/** See {@link SessionSelector#attributeEquals(String, String)}. */
	record AttributeEquals(String name, String value) implements SessionSelector {

		public AttributeEquals {
			Objects.requireNonNull(name, "name");
			Objects.requireNonNull(value, "value");
		}

		@Override
		public boolean matches(ManagedSession session) {
			Object attribute = session.getAttributes().get(this.name);
			// Only values with an obvious string form: an arbitrary object's toString() is no contract.
			boolean comparable = attribute instanceof CharSequence || attribute instanceof Number
					|| attribute instanceof Boolean || attribute instanceof Enum<?>;
			return comparable && this.value.equals((attribute instanceof Enum<?> e) ? e.name() : attribute.toString());
		}

	}

	/** Sessions every one of {@code selectors} selects. */
	record AllOf(List<SessionSelector> selectors) implements SessionSelector {

		public AllOf {
			selectors = List.copyOf(selectors);
		}

		@Override
		public boolean matches(ManagedSession session) {
			return this.selectors.stream().allMatch((selector) -> selector.matches(session));
		}

	}

	/** Sessions any one of {@code selectors} selects. */
	record AnyOf(List<SessionSelector> selectors) implements SessionSelector {

		public AnyOf {
			selectors = List.copyOf(selectors);
		}

		@Override
		public boolean matches(ManagedSession session) {
			return this.selectors.stream().anyMatch((selector) -> selector.matches(session));
		}

	}

}
