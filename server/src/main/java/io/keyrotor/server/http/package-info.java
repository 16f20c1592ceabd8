/**
 * The node's HTTPS endpoint for operators: Prometheus metrics at {@code /metrics} and a status page
 * at {@code /} ({@link io.keyrotor.server.http.HttpEndpoint}), over mutual TLS with the node's
 * certificate, for principals that may read the cluster status.
 */
package io.keyrotor.server.http;
