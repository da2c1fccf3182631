/**
 * Actuator support of resilient-ws.
 */
@NullMarked
package io.resilientws.actuate;

import org.jspecify.annotations.NullMarked;
