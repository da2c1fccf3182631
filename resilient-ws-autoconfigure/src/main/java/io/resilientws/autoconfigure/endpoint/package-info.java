/**
 * Auto-configuration of the websockets actuator endpoint.
 */
@NullMarked
package io.resilientws.autoconfigure.endpoint;

import org.jspecify.annotations.NullMarked;
