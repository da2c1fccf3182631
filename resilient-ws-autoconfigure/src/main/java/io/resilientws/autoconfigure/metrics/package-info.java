/**
 * Auto-configuration of resilient-ws meters.
 */
@NullMarked
package io.resilientws.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
