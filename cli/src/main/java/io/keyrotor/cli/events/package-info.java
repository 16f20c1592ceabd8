/** {@code keyrotor events publish}: key events to a NATS subject, in log order, at least once. */
package io.keyrotor.cli.events;
