package io.resilientws.cluster;

import java.util.List;

/**
 * The Lua scripts of {@link RedisResumeStore}, one per command it gives Redis, each with the keys and
 * arguments it takes (the keys are the store's, docs/RESUME-PROTOCOL.md §7). Kept apart from the store so
 * that the store reads as what it writes when, and these as how Redis applies it.
 */
final class ResumeScripts {

	// What every write of the holder's starts with (KEYS[1] the session's hash, ARGV[1] this instance):
	// an instance that lost the session (another took it over) changes nothing of it any more.
	private static final String HELD = """
			if redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return 0 end
			""";

	// Raises the count of client messages handled to ARGV[2], never lowers it.
	private static final String RAISE_COUNT = """
			if tonumber(redis.call('HGET', KEYS[1], 'c')) < tonumber(ARGV[2]) then
			  redis.call('HSET', KEYS[1], 'c', ARGV[2])
			end
			""";

	// KEYS: hash, token key, publication log. ARGV: me, endpoint, principal, token hash, session id, ttl ms.
	// The watermark starts at the log's newest entry: what was published before is not the session's.
	static final String START = """
			redis.call('DEL', KEYS[1])
			local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
			redis.call('HSET', KEYS[1], 'h', ARGV[1], 'ep', ARGV[2], 'pr', ARGV[3], 'tk', ARGV[4], 'tu', '',
			  'c', 0, 's', 0, 'a', 0, 'dr', 0, 'b', 0, 'w', top[1] and top[1][1] or '0-0', 'po', '', 'pp', '')
			redis.call('PEXPIRE', KEYS[1], ARGV[6])
			redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
			return 1""";

	// KEYS: hash, stream. ARGV: me, ttl ms, broken, handled count (-1: none), the newest publication log id
	// among the messages ('' for none; the batch holds them in log order), then seq, kind, payload of each
	// message.
	static final String APPEND = HELD + """
			if tonumber(ARGV[4]) > tonumber(redis.call('HGET', KEYS[1], 'c')) then
			  redis.call('HSET', KEYS[1], 'c', ARGV[4])
			end
			if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'w', ARGV[5]) end
			for i = 6, #ARGV, 3 do
			  redis.call('XADD', KEYS[2], '0-' .. ARGV[i], 'k', ARGV[i + 1], 'p', ARGV[i + 2])
			end
			redis.call('HSET', KEYS[1], 's', ARGV[#ARGV - 2])
			if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'b', 1) end
			if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
			return 1""";

	// KEYS: hash, stream. ARGV: me, seq.
	static final String DROPPED = HELD + """
			redis.call('XDEL', KEYS[2], '0-' .. ARGV[2])
			return 1""";

	// KEYS: hash. ARGV: me, client count.
	static final String RECEIVED = HELD + RAISE_COUNT + """
			return 1""";

	// KEYS: hash, stream. ARGV: me, acknowledged count, the acceptance number of the last acknowledged.
	static final String ACKNOWLEDGED = HELD + """
			if tonumber(redis.call('HGET', KEYS[1], 'a')) < tonumber(ARGV[2]) then
			  redis.call('HSET', KEYS[1], 'a', ARGV[2])
			  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. (tonumber(ARGV[3]) + 1))
			end
			return 1""";

	// KEYS: hash, new token key. ARGV: me, token hash, unconfirmed token hash, session id, ttl ms.
	static final String TOKENS = HELD + """
			redis.call('HSET', KEYS[1], 'tk', ARGV[2], 'tu', ARGV[3])
			redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
			return 1""";

	// KEYS: hash. ARGV: me.
	static final String BROKEN = HELD + """
			redis.call('HSET', KEYS[1], 'b', 1)
			return 1""";

	// KEYS: hash. ARGV: me. Redis's own clock, the one the takeover compares with.
	static final String HANDING_OVER = HELD + """
			local t = redis.call('TIME')
			redis.call('HSET', KEYS[1], 'dr', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
			return 1""";

	// KEYS: hash. ARGV: me, client count.
	static final String RELEASE = HELD + RAISE_COUNT + """
			redis.call('HSET', KEYS[1], 'h', '', 'dr', 0, 'pp', ARGV[1])
			return 1""";

	// KEYS: hash, stream. ARGV: me.
	static final String END = HELD + """
			redis.call('DEL', KEYS[1], KEYS[2])
			return 1""";

	// KEYS: hash, stream, new token key, the publication log's trimmed mark.
	// ARGV: presented token hash, me, endpoint, principal, received, new token hash, session id, ttl ms,
	// hand-over grace ms, then the live node ids.
	// Returns a flat array: status, and when taken the client count and the last acceptance number, then
	// acceptance number, kind and payload of each message the client lacks. Keeps, for the read of the
	// publication log that follows, which instance held the session before ('xp') and up to which log id
	// that instance's own publications reached it ('xo', empty: all of them did, or died with it).
	static final String TAKE_OVER = PublicationLog.NEWER + """
			if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
			local f = redis.call('HMGET', KEYS[1], 'ep', 'pr', 'tk', 'tu', 'h', 'dr', 'c', 's', 'a', 'b', 'w', 'po', 'pp')
			if ARGV[1] ~= f[3] and ARGV[1] ~= f[4] then return {'reused'} end
			if f[1] ~= ARGV[3] then return {'endpoint'} end
			if f[2] ~= ARGV[4] then return {'principal'} end
			if f[10] == '1' then return {'overflow'} end
			local trimmed = redis.call('GET', KEYS[4])
			if trimmed and f[11] and newer(trimmed, f[11]) then return {'overflow'} end
			local holder = f[5]
			if holder ~= '' and holder ~= ARGV[2] then
			  for i = 10, #ARGV do
			    if ARGV[i] == holder then return {'held', holder} end
			  end
			  if f[6] ~= '0' then
			    local t = redis.call('TIME')
			    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
			    if now - tonumber(f[6]) < tonumber(ARGV[9]) then return {'held'} end
			  end
			end
			local received = tonumber(ARGV[5])
			local acknowledged = tonumber(f[9])
			if received < acknowledged then return {'invalid'} end
			local entries = redis.call('XRANGE', KEYS[2], '-', '+')
			local has = received - acknowledged
			if has > #entries then return {'overflow'} end
			local previous = (holder ~= '' and holder) or f[13] or ''
			redis.call('HSET', KEYS[1], 'h', ARGV[2], 'dr', 0, 'tk', ARGV[6], 'tu', ARGV[1], 'a', received,
			  'xp', previous, 'xo', f[12] or '', 'po', '')
			if has > 0 then
			  local last = entries[has][1]
			  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. (tonumber(string.sub(last, 3)) + 1))
			end
			redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[8])
			redis.call('PEXPIRE', KEYS[1], ARGV[8])
			local out = {'taken', f[7], f[8]}
			for i = has + 1, #entries do
			  local entry = entries[i]
			  local fields = entry[2]
			  local kind, payload = '', ''
			  for i = 1, #fields, 2 do
			    if fields[i] == 'k' then kind = fields[i + 1] elseif fields[i] == 'p' then payload = fields[i + 1] end
			  end
			  out[#out + 1] = string.sub(entry[1], 3)
			  out[#out + 1] = kind
			  out[#out + 1] = payload
			end
			return out""";

	// KEYS: hash, stream, token key. ARGV: ttl ms.
	static final String REFRESH = """
			redis.call('PEXPIRE', KEYS[1], ARGV[1])
			redis.call('PEXPIRE', KEYS[2], ARGV[1])
			redis.call('PEXPIRE', KEYS[3], ARGV[1])
			return 1""";

	/** What the holder writes, in the order it writes: run by {@link ScriptBatcher}, many to one call. */
	static final List<String> BATCHED = List.of(START, APPEND, DROPPED, RECEIVED, ACKNOWLEDGED, TOKENS,
			BROKEN, HANDING_OVER, RELEASE, END);

	static final String BATCH = ScriptBatcher.batchScript(BATCHED);

	private ResumeScripts() {
	}

}
