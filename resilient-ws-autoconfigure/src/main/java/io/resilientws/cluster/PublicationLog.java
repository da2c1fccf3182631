package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

import io.resilientws.server.SessionSelector;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReturnType;

/**
 * Cluster mode with resume on: every message published to the cluster is also kept, for a while, in
 * one Redis stream, the publication log, whose ids order all publications of all instances. A session
 * that no instance held for a moment (its instance was killed, or handed it over in a drain) gets from
 * it, when taken over, what was published for it in between (docs/RESUME-PROTOCOL.md §7).
 * <ul>
 * <li>One script appends to the log and publishes, so every instance receives publications in log
 * order on its one subscription connection, each with its id.</li>
 * <li>A session's journal keeps the newest id among the messages it journaled (its watermark). Its
 * holder receives publications in log order, so whatever matched the session after the watermark was
 * not written to its client.</li>
 * <li>The instance taking a session over registers it in catch-up mode (what is published for it is
 * held back), reads the log after the watermark, and waits for a marker the read publishes to it: then
 * everything the read saw has also reached it live, and what it holds back of that is dropped. The
 * session gets the read's entries in log order, then what was held back, then the live stream.</li>
 * <li>The log keeps its newest {@link #CAPACITY} entries and remembers the newest id it dropped: a
 * takeover that would need a dropped entry is refused as an overflow, never replayed in part.</li>
 * </ul>
 * A read-write lock orders this instance's own publications against a takeover: a publication and its
 * local copies share it, a takeover holds it alone while it registers the session and queues its read.
 * So each own publication is in the read (issued before it, not delivered locally) or delivered
 * locally (issued after it, not in the read).
 */
final class PublicationLog {

	/** Entries kept: at 1 KiB each, 10 MiB in Redis; enough for a takeover gap of 10 s at 1,000 publications/s. */
	static final int CAPACITY = 10_000;

	static final String NEWER = """
			local function newer(a, b)
			  local am, as = string.match(a, '(%d+)-(%d+)')
			  local bm, bs = string.match(b, '(%d+)-(%d+)')
			  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
			  return am > bm or (am == bm and as > bs)
			end
			""";

	// KEYS: log, trimmed mark. ARGV: channel, envelope (version 1), capacity, ttl ms, origin, selector kind,
	// selector value. Returns PUBLISH's count of receiving subscriptions.
	static final String PUBLISH = """
			local id = redis.call('XADD', KEYS[1], '*', 'o', ARGV[5], 'k', ARGV[6], 'v', ARGV[7], 'e', ARGV[2])
			local n = redis.call('PUBLISH', ARGV[1], string.char(2) .. string.char(#id) .. id .. string.sub(ARGV[2], 2))
			local over = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
			if over > 0 then
			  local dropped = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', over)
			  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[3])
			  redis.call('SET', KEYS[2], dropped[#dropped][1], 'PX', ARGV[4])
			end
			redis.call('PEXPIRE', KEYS[1], ARGV[4])
			return n""";

	// KEYS: the session's hash, log, trimmed mark. ARGV: endpoint, principal, session id, the reader's
	// probe channel, a marker to publish on it once read.
	// The hash's 'w' is the session's watermark, 'xp' the instance that held it before, 'xo' the newest log
	// id at the moment that instance stopped taking messages for it (empty: it died; all of its own
	// publications are skipped, it delivered them itself or died with them).
	// Returns {'trimmed'}, or {'ok', the log's newest id, then id and envelope of each entry that may be for
	// the session}.
	static final String READ = NEWER + """
			local f = redis.call('HMGET', KEYS[1], 'w', 'xp', 'xo')
			local w = f[1] or '0-0'
			local trimmed = redis.call('GET', KEYS[3])
			if trimmed and newer(trimmed, w) then return {'trimmed'} end
			local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
			local out = {'ok', top[1] and top[1][1] or '0-0'}
			for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '(' .. w, '+')) do
			  local fields = {}
			  for i = 1, #entry[2], 2 do fields[entry[2][i]] = entry[2][i + 1] end
			  local own = fields['o'] == f[2] and (not f[3] or f[3] == '' or not newer(entry[1], f[3]))
			  local k, v = fields['k'], fields['v']
			  if not own and (k == '*' or k == 'x' or (k == 'e' and v == ARGV[1]) or (k == 'p' and v == ARGV[2])
			      or (k == 's' and v == ARGV[3])) then
			    out[#out + 1] = entry[1]
			    out[#out + 1] = fields['e']
			  end
			end
			redis.call('PUBLISH', ARGV[4], ARGV[5])
			return out""";

	// KEYS: the session's hash, log. ARGV: me. The holder stops taking messages for the session: its own
	// publications after the log's newest id now were not delivered to it.
	static final String STOPPED_TAKING = """
			if redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return 0 end
			local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
			redis.call('HSET', KEYS[1], 'po', top[1] and top[1][1] or '0-0')
			return 1""";

	private final ByteBuffer log;

	private final ByteBuffer trimmed;

	/** Whether the log is kept: cluster mode with resume on. */
	private volatile boolean kept;

	private final ReentrantReadWriteLock order = new ReentrantReadWriteLock();

	PublicationLog(String prefix) {
		this.log = RedisKeys.bytes(prefix + "publications");
		this.trimmed = RedisKeys.bytes(prefix + "publications:trimmed");
	}

	static List<String> scripts() {
		return List.of(PUBLISH, READ, STOPPED_TAKING);
	}

	ByteBuffer key() {
		return this.log.duplicate();
	}

	ByteBuffer trimmedKey() {
		return this.trimmed.duplicate();
	}

	/** Resume is on: from now on every publication is kept in the log. */
	void keep() {
		this.kept = true;
	}

	boolean kept() {
		return this.kept;
	}

	/** Appends a publication to the log and publishes it, in one script; completes with PUBLISH's count. */
	CompletableFuture<Long> publish(RedisResumeStore scripts, ReactiveRedisConnection connection, String channel,
			byte[] envelope, String origin, SessionSelector selector, long ttlMillis) {
		String[] filter = filterOf(selector);
		return scripts.evalLong(connection, PUBLISH, 2, this.log.duplicate(), this.trimmed.duplicate(),
				RedisKeys.bytes(channel), ByteBuffer.wrap(envelope), RedisKeys.bytes(Integer.toString(CAPACITY)),
				RedisKeys.bytes(Long.toString(ttlMillis)), RedisKeys.bytes(origin), RedisKeys.bytes(filter[0]),
				RedisKeys.bytes(filter[1]));
	}

	// What the log's script can check without decoding the envelope; 'x' leaves it to this instance.
	private static String[] filterOf(SessionSelector selector) {
		if (selector instanceof SessionSelector.All) {
			return new String[] { "*", "" };
		}
		if (selector instanceof SessionSelector.Endpoint endpoint) {
			return new String[] { "e", endpoint.path() };
		}
		if (selector instanceof SessionSelector.Principal principal) {
			return new String[] { "p", principal.name() };
		}
		if (selector instanceof SessionSelector.Session session) {
			return new String[] { "s", session.id() };
		}
		return new String[] { "x", "" };
	}

	/** Runs a publish together with the local delivery of its copies, in order with takeovers. */
	<T> T publishing(Supplier<T> publishAndDeliver) {
		this.order.readLock().lock();
		try {
			return publishAndDeliver.get();
		}
		finally {
			this.order.readLock().unlock();
		}
	}

	/**
	 * Registers a session taken over from another instance and queues the read of the log for it, with
	 * none of this instance's publications in between.
	 */
	<T> T registerAndRead(Runnable register, Supplier<T> read) {
		this.order.writeLock().lock();
		try {
			register.run();
			return read.get();
		}
		finally {
			this.order.writeLock().unlock();
		}
	}

	/** Runs {@code stop} (a session stops taking messages) and queues its mark, with no publication in between. */
	void stopTaking(Runnable stop, Runnable mark) {
		if (this.order.getReadHoldCount() > 0) {
			// A publication on this thread closed the session (an overflow during a drain): the lock
			// cannot be taken alone here, and waiting for it would never end. Marked without it: a
			// publication of another thread in the same instant may reach the session twice or not.
			stop.run();
			mark.run();
			return;
		}
		this.order.writeLock().lock();
		try {
			stop.run();
			mark.run();
		}
		finally {
			this.order.writeLock().unlock();
		}
	}

	/** {@link #READ}'s answer: the log's newest id when read, and the entries that may be for the session. */
	record Read(String top, List<Entry> entries) {

		/** @return null when the log no longer has every entry after the session's watermark */
		static @Nullable Read of(List<Object> answer) {
			if (answer.size() < 2 || !"ok".equals(text(answer.get(0)))) {
				return null;
			}
			List<Entry> entries = new ArrayList<>();
			for (int i = 2; i + 1 < answer.size(); i += 2) {
				entries.add(new Entry(text(answer.get(i)), bytes(answer.get(i + 1))));
			}
			return new Read(text(answer.get(1)), entries);
		}

	}

	/** One entry of the log that may be for a session taken over: its id and envelope. */
	record Entry(String id, byte[] envelope) {
	}

	/** Whether log id {@code a} is after {@code b} (ids are {@code <ms>-<seq>}). */
	static boolean newer(String a, String b) {
		int dashA = a.indexOf('-');
		int dashB = b.indexOf('-');
		long msA = Long.parseLong(a, 0, dashA, 10);
		long msB = Long.parseLong(b, 0, dashB, 10);
		if (msA != msB) {
			return msA > msB;
		}
		return Long.parseLong(a, dashA + 1, a.length(), 10) > Long.parseLong(b, dashB + 1, b.length(), 10);
	}

	private static String text(Object value) {
		return (value instanceof ByteBuffer buffer) ? RedisKeys.string(buffer.duplicate())
				: (value instanceof byte[] raw) ? new String(raw, java.nio.charset.StandardCharsets.UTF_8)
						: String.valueOf(value);
	}

	private static byte[] bytes(Object value) {
		if (value instanceof ByteBuffer buffer) {
			byte[] bytes = new byte[buffer.remaining()];
			buffer.duplicate().get(bytes);
			return bytes;
		}
		return (byte[]) value;
	}

}
