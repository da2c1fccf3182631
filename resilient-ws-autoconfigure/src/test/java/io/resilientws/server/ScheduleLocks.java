package io.resilientws.server;

import java.lang.reflect.Field;
import java.util.concurrent.locks.ReentrantLock;

import io.resilientws.send.OutboundQueue;

/** What the schedule tests read of a session's send buffer: whether this thread holds its lock. */
final class ScheduleLocks {

	private static final Field OUTBOUND = field(ManagedSession.class, "outbound");

	private static final Field LOCK = field(OutboundQueue.class, "lock");

	private ScheduleLocks() {
	}

	static boolean sendBufferLockHeld(ManagedSession session) {
		try {
			return ((ReentrantLock) LOCK.get(OUTBOUND.get(session))).isHeldByCurrentThread();
		}
		catch (IllegalAccessException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static Field field(Class<?> type, String name) {
		try {
			Field field = type.getDeclaredField(name);
			field.setAccessible(true);
			return field;
		}
		catch (NoSuchFieldException ex) {
			throw new IllegalStateException(type.getSimpleName() + " has no field " + name
					+ " any more: the schedule tests read the send buffer's lock through it", ex);
		}
	}

}
