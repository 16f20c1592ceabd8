/** Lays out a local development cluster: node configurations and software HSM key files. */
package io.keyrotor.server.local;
