/**
 * Server side: every WebSocket session the application accepts is tracked, pinged, bounded in what
 * it may buffer and receive, and closed with 1001 in paced batches when the application stops.
 */
@NullMarked
package io.resilientws.server;

import org.jspecify.annotations.NullMarked;
