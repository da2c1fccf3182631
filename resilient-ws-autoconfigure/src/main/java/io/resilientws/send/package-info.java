/**
 * The send path shared by client connections and server sessions: a queue bounded in bytes with one
 * write in flight, overflow policies, rate limiting, and outcomes reported to every sender.
 */
@NullMarked
package io.resilientws.send;

import org.jspecify.annotations.NullMarked;
