/**
 * Micrometer meters of resilient-ws connections.
 */
@NullMarked
package io.resilientws.metrics;

import org.jspecify.annotations.NullMarked;
