/**
 * Managed client connections: state machine, reconnect policy with backoff, and the registry.
 */
@NullMarked
package io.resilientws.client;

import org.jspecify.annotations.NullMarked;
