/**
 * The keyrotor Java SDK: {@link io.keyrotor.client.KeyrotorClient} calls every public RPC of a
 * cluster with leader following, failover, jittered backoff under a deadline and request ids that
 * make retried writes apply once.
 */
package io.keyrotor.client;
