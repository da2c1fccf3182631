package io.resilientws.server;

/**
 * What a broadcast did at once: how many sessions took the message into their send buffer and how
 * many refused it. Each refused or later undelivered message is also counted and published as a
 * {@link SessionEvent.Undelivered}.
 *
 * @param accepted sessions that accepted the message
 * @param rejected sessions that refused it (buffer full under DROP_NEWEST or TERMINATE, or closing)
 */
public record BroadcastResult(int accepted, int rejected) {
}
