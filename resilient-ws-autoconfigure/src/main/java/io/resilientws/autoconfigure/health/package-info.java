/**
 * Auto-configuration of the websockets health contributor.
 */
@NullMarked
package io.resilientws.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
