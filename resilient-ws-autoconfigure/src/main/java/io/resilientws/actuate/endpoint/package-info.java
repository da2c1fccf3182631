/**
 * The {@code websockets} actuator endpoint.
 */
@NullMarked
package io.resilientws.actuate.endpoint;

import org.jspecify.annotations.NullMarked;
