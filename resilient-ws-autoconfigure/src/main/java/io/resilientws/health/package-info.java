/**
 * Health of resilient-ws connections, for Spring Boot's health endpoint.
 */
@NullMarked
package io.resilientws.health;

import org.jspecify.annotations.NullMarked;
