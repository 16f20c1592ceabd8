/**
 * Test fixtures shared by the server's tests across packages: a manual clock, a test HSM, futures
 * of asynchronous calls.
 */
package io.keyrotor.server.testing;
