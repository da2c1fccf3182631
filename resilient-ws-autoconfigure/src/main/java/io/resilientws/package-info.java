/**
 * resilient-ws: WebSocket connections that notice when they are dead and come back by themselves.
 */
@NullMarked
package io.resilientws;

import org.jspecify.annotations.NullMarked;
