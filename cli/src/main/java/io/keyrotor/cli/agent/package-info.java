/**
 * {@code keyrotor agent}: a local caching agent that serves the data plane to the applications of
 * one host on a Unix domain socket, and its metrics on loopback.
 */
package io.keyrotor.cli.agent;
