/** Node metrics: a Dropwizard registry with a timer per RPC and per applied command kind. */
package io.keyrotor.server.metrics;
