/**
 * Spring Boot auto-configuration and configuration properties of resilient-ws.
 */
@NullMarked
package io.resilientws.autoconfigure;

import org.jspecify.annotations.NullMarked;
