/**
 * The resident CLI process: one JVM per user (and per jar and JVM settings) that runs {@code
 * scripts/keyrotor} command lines handed to it over an owner-only Unix domain socket, with the SDK
 * connections of earlier commands kept, so a command answers without a JVM start or a TLS
 * handshake.
 */
package io.keyrotor.cli.resident;
