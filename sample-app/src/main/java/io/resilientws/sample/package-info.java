/**
 * A runnable sample: a ticker WebSocket endpoint and a managed client connection to it.
 */
@NullMarked
package io.resilientws.sample;

import org.jspecify.annotations.NullMarked;
