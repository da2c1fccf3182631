/**
 * Session resume (issue 13; not yet wired into sessions or clients): the wire format of
 * {@code docs/RESUME-PROTOCOL.md} version 1, the sender's buffer of written but unacknowledged
 * messages, and the receiver's acknowledgement schedule. Pure parts: no I/O, no threads, no clock of
 * their own; their owner holds its lock around them and acts on what they return after releasing it.
 */
@NullMarked
package io.resilientws.resume;

import org.jspecify.annotations.NullMarked;
