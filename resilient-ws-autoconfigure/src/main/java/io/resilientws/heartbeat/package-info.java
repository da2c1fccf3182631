/**
 * Liveness checks on one shared scheduler: pings, timeouts and dead-peer detection.
 */
@NullMarked
package io.resilientws.heartbeat;

import org.jspecify.annotations.NullMarked;
