/** The keyrotor node: configuration, start-up and the process entry point. */
package io.keyrotor.server;
