/**
 * Scripted stand-ins for the network peer of the SDK (real gRPC servers on loopback ports with fake
 * services) and a manual clock; test code only.
 */
package io.keyrotor.client.testing;
