/**
 * Cluster mode: the {@link io.resilientws.server.Fanout} that reaches the sessions of every instance
 * through Redis (Spring Data Redis on Lettuce), and this instance's entry in the cluster view.
 */
@NullMarked
package io.resilientws.cluster;

import org.jspecify.annotations.NullMarked;
